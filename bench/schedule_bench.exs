# Per-element costs behind the normal/dirty scheduler decision
# (c_src/nif/schedule.hpp). Each is measured on inputs small enough to stay on
# the normal scheduler, so no dirty-scheduling overhead is included.
#
#   mix run bench/schedule_bench.exs
Code.require_file("bench_helper.exs", __DIR__)

alias BenchHelper, as: B
alias Analytics.Series

IO.puts("machine: #{B.machine()}")
IO.puts("normal-scheduler budget: #{Analytics.info().normal_scheduler_budget_ns} ns\n")

n = 8_000
:rand.seed(:exsss, {4, 5, 6})
floats = for _ <- 1..n, do: :rand.uniform()
series = Series.from_list(floats)
binary = Series.to_binary(series)
keys = Series.from_list(Enum.map(1..n, &rem(&1 * 7919, 2000)), :i64)
require Analytics
# Five operators (the column, two constants, * and +): report per operator.
affine = Analytics.expr(x * 2.0 + 1.0)

measurements = [
  {"streaming_reduce (sum+max+variance)",
   fn -> Analytics.reduce(series, [:sum, :max, :variance]) end},
  {"selection (median)", fn -> Analytics.reduce(series, :median) end},
  {"hashing (n_distinct)", fn -> Analytics.reduce(series, :n_distinct) end},
  {"list_decode (reduce list, :count)", fn -> Analytics.reduce(floats, :count) end},
  {"list_encode (to_list)", fn -> Series.to_list(series) end},
  {"copy (from_binary)", fn -> Series.from_binary(binary, :f64) end},
  {"expression_node (map x * 2.0 + 1.0) / 5", fn -> Analytics.map(series, affine) end, 5},
  {"grouping (group_reduce :sum, 2000 keys)",
   fn -> Analytics.group_reduce(keys, series, :sum) end},
  {"sketching (approx_quantile)", fn -> Analytics.reduce(series, {:approx_quantile, 0.5}) end},
  {"sketching (approx_n_distinct)", fn -> Analytics.reduce(series, :approx_n_distinct) end}
]

for measurement <- measurements do
  {label, fun, per} = with {label, fun} <- measurement, do: {label, fun, 1}
  ns_per_element = B.median_us(fun) * 1000 / n / per
  IO.puts(String.pad_trailing(label, 40) <> "#{B.fmt(ns_per_element)} ns/element")
end
