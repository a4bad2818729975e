# Analytics.group_reduce and bucket_reduce against compiled pure Elixir
# (Enum.reduce into a map, then sorted), in one run.
#
#   mix run bench/group_reduce_bench.exs
#
# Ratios are (pure Elixir time) / (Analytics time): higher is better.
Code.require_file("bench_helper.exs", __DIR__)
alias BenchHelper, as: B
alias Analytics.Series

defmodule PureGroups do
  @moduledoc false
  def sum_count(keys, values) do
    keys
    |> Enum.zip(values)
    |> Enum.reduce(%{}, fn {k, v}, acc ->
      Map.update(acc, k, {v, 1}, fn {s, c} -> {s + v, c + 1} end)
    end)
    |> Enum.sort()
  end
end

IO.puts("group_reduce [sum, count]: #{B.machine()}")
B.row(["rows", "groups", "analytics us", "Elixir us", "ratio"], [10, 10, 14, 14, 8])

for {rows, groups} <- [{100_000, 100}, {1_000_000, 1_000}, {1_000_000, 1_000_000}] do
  :rand.seed(:exsss, {rows, groups, 1})
  keys = for _ <- 1..rows, do: :rand.uniform(groups) * 7919
  values = for _ <- 1..rows, do: :rand.uniform()
  {ks, vs} = {Series.from_list(keys, :i64), Series.from_list(values)}
  ours = B.median_us(fn -> Analytics.group_reduce(ks, vs, [:sum, :count]) end)
  pure = B.median_us(fn -> PureGroups.sum_count(keys, values) end)
  B.row([rows, groups, ours, pure, pure / ours], [10, 10, 14, 14, 8])
end
