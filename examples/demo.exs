# The main job for now: builds synthetic request metrics, reduces them with
# Analytics, and prints each answer with its time next to pure Elixir's.
#
#   bash scripts/demo.sh        (installs, builds and runs this)
alias Analytics.Series

defmodule Demo do
  @moduledoc false

  def time(fun) do
    {us, value} = :timer.tc(fun)
    {value, us}
  end

  def show(label, {value, native_us}, elixir_us) do
    IO.puts(
      String.pad_trailing(label, 34) <>
        String.pad_trailing(if(is_map(value), do: "(below)", else: inspect(value)), 34) <>
        String.pad_leading("#{native_us} us", 12) <>
        String.pad_leading("#{elixir_us} us", 14) <>
        String.pad_leading("#{Float.round(elixir_us / max(native_us, 1), 1)}x", 10)
    )
  end
end

n = 2_000_000
IO.puts("analytics demo: #{n} synthetic requests; #{inspect(Analytics.info())}\n")
:rand.seed(:exsss, {2026, 11, 25})

{latencies, build_us} =
  Demo.time(fn ->
    # Log-normal latencies in ms, with a few timeouts recorded as infinity.
    for i <- 1..n do
      if rem(i, 100_000) == 0, do: :infinity, else: :math.exp(3.0 + 0.5 * :rand.normal())
    end
  end)

bytes = for _ <- 1..n, do: :rand.uniform(1_000_000)
IO.puts("built the data in #{div(build_us, 1000)} ms")

{latency, load_us} = Demo.time(fn -> Series.from_list(latencies) end)
finite = Series.from_list(Enum.reject(latencies, &(&1 == :infinity)))
response_bytes = Series.from_list(bytes, :i64)
IO.puts("loaded into native columns in #{div(load_us, 1000)} ms: #{inspect(latency)}\n")

IO.puts(
  String.pad_trailing("question", 34) <>
    String.pad_trailing("answer", 34) <>
    String.pad_leading("analytics", 12) <> String.pad_leading("pure Elixir", 14) <> String.pad_leading("ratio", 10)
)

finite_list = Series.to_list(finite)
{_, total_us} = Demo.time(fn -> Enum.sum(bytes) end)
Demo.show("total bytes served (exact i64)", Demo.time(fn -> Analytics.reduce(response_bytes, :sum) end), total_us)

{_, max_us} = Demo.time(fn -> Enum.max(latencies, fn a, b -> a == :infinity or (b != :infinity and a >= b) end) end)
Demo.show("slowest request (with timeouts)", Demo.time(fn -> Analytics.reduce(latency, :max) end), max_us)

{_, mean_us} = Demo.time(fn -> Enum.sum(finite_list) / length(finite_list) end)
Demo.show("mean latency, ms", Demo.time(fn -> Analytics.reduce(finite, :mean) end), mean_us)

{_, p99_us} = Demo.time(fn -> finite_list |> Enum.sort() |> Enum.at(round(0.99 * (length(finite_list) - 1))) end)
Demo.show("p99 latency, ms", Demo.time(fn -> Analytics.reduce(finite, {:quantile, 0.99}) end), p99_us)

{_, distinct_us} = Demo.time(fn -> bytes |> MapSet.new() |> MapSet.size() end)
Demo.show("distinct response sizes", Demo.time(fn -> Analytics.reduce(response_bytes, :n_distinct) end), distinct_us)

summary = Demo.time(fn -> Analytics.reduce(finite, [:count, :mean, :standard_deviation, :median, {:quantile, 0.9}]) end)
{_, summary_us} = Demo.time(fn -> {length(finite_list), Enum.sum(finite_list), Enum.sort(finite_list)} end)
Demo.show("summary, 5 reducers at once", summary, summary_us)

IO.puts("\nfull summary: #{inspect(elem(summary, 0))}")
