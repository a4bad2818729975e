# Analytics.reduce against compiled pure Elixir over the same data, in one run.
#
#   mix run bench/reduce_bench.exs
#
# Ratios are (pure Elixir time) / (Analytics time): higher is better.
Code.require_file("bench_helper.exs", __DIR__)

defmodule PureElixir do
  @moduledoc false
  # What an Elixir developer would write without this library.
  def sum(list), do: Enum.sum(list)
  def max(list), do: Enum.max(list)
  def mean(list), do: Enum.sum(list) / length(list)

  def variance(list) do
    n = length(list)
    mean = Enum.sum(list) / n
    Enum.reduce(list, 0.0, fn x, acc -> acc + (x - mean) * (x - mean) end) / (n - 1)
  end

  def median(list) do
    sorted = list |> Enum.sort() |> List.to_tuple()
    n = tuple_size(sorted)

    if rem(n, 2) == 1,
      do: elem(sorted, div(n, 2)),
      else: (elem(sorted, div(n, 2) - 1) + elem(sorted, div(n, 2))) / 2
  end

  def n_distinct(list), do: list |> MapSet.new() |> MapSet.size()

  # The best single-pass-plus-one code for [:sum, :min, :max, :mean, :variance].
  def summary([first | _] = list) do
    {n, sum, min, max} =
      Enum.reduce(list, {0, 0, first, first}, fn x, {n, s, lo, hi} ->
        {n + 1, s + x, if(x < lo, do: x, else: lo), if(x > hi, do: x, else: hi)}
      end)

    mean = sum / n
    m2 = Enum.reduce(list, 0.0, fn x, acc -> acc + (x - mean) * (x - mean) end)
    %{sum: sum, min: min, max: max, mean: mean, variance: m2 / (n - 1)}
  end
end

alias BenchHelper, as: B
alias Analytics.Series

IO.puts("machine: #{B.machine()}\n")
IO.puts("Series reductions vs pure Elixir on a list (ratio = Elixir time / Analytics time)")
widths = [10, 12, 12, 10, 12, 10]
B.row(["elements", "reducer", "analytics us", "elixir us", "ratio", "ns/elem"], widths)

:rand.seed(:exsss, {1, 2, 3})

for n <- [1_000, 65_536, 1_000_000, 16_000_000] do
  list = for _ <- 1..n, do: :rand.uniform()
  series = Series.from_list(list)

  reducers =
    if n <= 1_000_000,
      do: [:sum, :max, :mean, :variance, :median, :n_distinct],
      else: [:sum, :max, :mean, :variance]

  for reducer <- reducers do
    native = B.median_us(fn -> Analytics.reduce(series, reducer) end)
    elixir = B.median_us(fn -> apply(PureElixir, reducer, [list]) end)
    B.row([n, reducer, native, elixir, elixir / native, native * 1000 / n], widths)
  end
end

IO.puts("\nPlain lists in (streamed block by block, no column), paired samples")

IO.puts(
  "targets: f64 :sum >= 1.5x Enum.sum, i64 :sum >= 0.5x, summary > 1x, from_list <= 0.5 of Enum.sum's time"
)

B.row(["elements", "work", "analytics us", "elixir us", "ratio", "ns/elem"], widths)
summary = [:sum, :min, :max, :mean, :variance]

for n <- [1_000, 65_536, 1_000_000] do
  floats = for _ <- 1..n, do: :rand.uniform()
  ints = for _ <- 1..n, do: :rand.uniform(1_000_000)

  for {label, list} <- [{"f64 :sum", floats}, {"i64 :sum", ints}] do
    {native, elixir, ratio} =
      B.paired_us(fn -> Analytics.reduce(list, :sum) end, fn -> Enum.sum(list) end)

    B.row([n, label, native, elixir, ratio, native * 1000 / n], widths)
  end

  for {label, list} <- [{"f64 summary", floats}, {"i64 summary", ints}] do
    {native, elixir, ratio} =
      B.paired_us(fn -> Analytics.reduce(list, summary) end, fn -> PureElixir.summary(list) end)

    B.row([n, label, native, elixir, ratio, native * 1000 / n], widths)
  end

  # The ratio here is Enum.sum's time over from_list's: >= 2 meets the target.
  # A column goes back to the pool when its term is collected, and this
  # process makes little garbage on its heap, so a minor GC per call (on both
  # sides) frees the previous call's column as an application's would be.
  minor_gc = fn -> :erlang.garbage_collect(self(), type: :minor) end

  {native, elixir, ratio} =
    B.paired_us(
      fn -> minor_gc.() && Series.from_list(floats) end,
      fn -> minor_gc.() && Enum.sum(floats) end
    )

  B.row([n, "from_list f64", native, elixir, ratio, native * 1000 / n], widths)
end

IO.puts("\nPer-call cost at 1,000 elements")
small = Series.from_list(Enum.to_list(1..1_000))
small_list = Enum.to_list(1..1_000)

for {label, fun} <- [
      {"reduce(series, :sum)", fn -> Analytics.reduce(small, :sum) end},
      {"reduce(series, [:sum, :max, :mean])",
       fn -> Analytics.reduce(small, [:sum, :max, :mean]) end},
      {"reduce(list, :sum)", fn -> Analytics.reduce(small_list, :sum) end},
      {"Enum.sum(list)", fn -> Enum.sum(small_list) end}
    ] do
  IO.puts(String.pad_trailing(label, 40) <> "#{B.fmt(B.median_us(fun))} us/call")
end
