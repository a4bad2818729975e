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

IO.puts("\nPlain lists in, :sum out (list decoding included)")
B.row(["elements", "reducer", "analytics us", "elixir us", "ratio", "ns/elem"], widths)

for n <- [1_000, 65_536, 1_000_000] do
  floats = for _ <- 1..n, do: :rand.uniform()
  ints = for _ <- 1..n, do: :rand.uniform(1_000_000)

  for {label, list} <- [{"f64 list", floats}, {"i64 list", ints}] do
    native = B.median_us(fn -> Analytics.reduce(list, :sum) end)
    elixir = B.median_us(fn -> Enum.sum(list) end)
    B.row([n, label, native, elixir, elixir / native, native * 1000 / n], widths)
  end
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
