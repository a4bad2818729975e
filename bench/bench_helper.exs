defmodule BenchHelper do
  @moduledoc false
  # Timing for the Elixir benchmarks: the median of several samples, each
  # repeating the call for at least 10 ms, so that noise on a shared machine
  # shows up as spread rather than as a wrong ratio.

  @samples 5
  @min_sample_us 10_000

  def median_us(fun) do
    reps = calibrate(fun, 1)

    samples =
      for _ <- 1..@samples do
        {us, _} = :timer.tc(fn -> repeat(fun, reps) end)
        us / reps
      end

    samples |> Enum.sort() |> Enum.at(div(@samples, 2))
  end

  defp calibrate(fun, reps) do
    {us, _} = :timer.tc(fn -> repeat(fun, reps) end)
    if us >= @min_sample_us, do: reps, else: calibrate(fun, reps * 2)
  end

  defp repeat(fun, 1), do: fun.()

  defp repeat(fun, n) do
    fun.()
    repeat(fun, n - 1)
  end

  # The scheduler wake-up probe: sleeps 1 ms `count` times and returns the
  # p99 of how late each wake-up was, in us.
  def probe_p99(count) do
    lates =
      for _ <- 1..count do
        t0 = System.monotonic_time(:microsecond)
        Process.sleep(1)
        System.monotonic_time(:microsecond) - t0 - 1000
      end

    lates |> Enum.sort() |> Enum.at(round(count * 0.99) - 1)
  end

  def machine do
    model =
      case File.read("/proc/cpuinfo") do
        {:ok, text} ->
          Regex.run(~r/model name\s*:\s*(.*)/, text, capture: :all_but_first) |> List.first()

        _ ->
          "unknown"
      end

    "#{System.schedulers_online()} cores, #{model}; kernels: #{Analytics.info().simd}; " <>
      "OTP #{System.otp_release()}, Elixir #{System.version()}"
  end

  def fmt(x) when is_float(x) and x >= 100, do: :erlang.float_to_binary(x, decimals: 0)
  def fmt(x) when is_float(x) and x >= 1, do: :erlang.float_to_binary(x, decimals: 1)
  def fmt(x) when is_float(x), do: :erlang.float_to_binary(x, decimals: 3)
  def fmt(x), do: to_string(x)

  def row(cells, widths) do
    cells
    |> Enum.zip(widths)
    |> Enum.map_join(" ", fn {cell, w} -> String.pad_leading(fmt(cell), w) end)
    |> IO.puts()
  end
end
