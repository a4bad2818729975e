defmodule BenchHelper do
  @moduledoc false
  # Timing for the Elixir benchmarks: the median of several samples, each
  # repeating the call for at least 10 ms, so that noise on a shared machine
  # shows up as spread rather than as a wrong ratio.

  @samples 5
  @min_sample_us 10_000

  def median_us(fun) do
    {reps, _us} = calibrate(fun, 1, @min_sample_us)

    median(for _ <- 1..@samples, do: sample_us(fun, reps))
  end

  # `a` against `b`, their samples taken in turn (each at least 1 ms, up to
  # 41 pairs within about 2 s a side), so that a noisy stretch of a shared
  # machine lands on both sides: {median a, median b, median of the paired
  # ratios b/a}.
  def paired_us(a, b) do
    {reps_a, us_a} = calibrate(a, 1, 1_000)
    {reps_b, us_b} = calibrate(b, 1, 1_000)
    pairs = (2_000_000 / max(us_a, us_b)) |> trunc() |> max(5) |> min(41)

    samples = for _ <- 1..pairs, do: {sample_us(a, reps_a), sample_us(b, reps_b)}
    {samples_a, samples_b} = Enum.unzip(samples)
    {median(samples_a), median(samples_b), median(Enum.map(samples, fn {x, y} -> y / x end))}
  end

  defp sample_us(fun, reps) do
    {us, _} = :timer.tc(fn -> repeat(fun, reps) end)
    us / reps
  end

  defp median(samples), do: samples |> Enum.sort() |> Enum.at(div(length(samples), 2))

  # How many calls make a sample of at least `min_us`: {reps, that sample's us}.
  defp calibrate(fun, reps, min_us) do
    {us, _} = :timer.tc(fn -> repeat(fun, reps) end)
    if us >= min_us, do: {reps, us}, else: calibrate(fun, reps * 2, min_us)
  end

  defp repeat(fun, 1), do: fun.()

  defp repeat(fun, n) do
    fun.()
    repeat(fun, n - 1)
  end

  # The probe's p99 while `processes` processes call `fun` in a loop; returns
  # {p99_us, calls completed meanwhile}.
  def probe_p99_under_load(count, processes, fun) do
    stop = :atomics.new(1, [])
    workers = start_loops(processes, fun, fn -> :atomics.get(stop, 1) == 0 end)
    p99 = probe_p99(count)
    :atomics.put(stop, 1, 1)
    {p99, workers |> Task.await_many(60_000) |> Enum.sum()}
  end

  # Starts `processes` tasks, each calling `fun` until `keep_going` returns
  # false; each task's result is how many calls it made.
  def start_loops(processes, fun, keep_going) do
    for _ <- 1..processes do
      Task.async(fn ->
        Stream.repeatedly(fun) |> Stream.take_while(fn _ -> keep_going.() end) |> Enum.count()
      end)
    end
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
