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

measurements = [
  {"streaming_reduce (sum+max+variance)",
   fn -> Analytics.reduce(series, [:sum, :max, :variance]) end},
  {"selection (median)", fn -> Analytics.reduce(series, :median) end},
  {"hashing (n_distinct)", fn -> Analytics.reduce(series, :n_distinct) end},
  {"list_decode (reduce list, :count)", fn -> Analytics.reduce(floats, :count) end},
  {"list_encode (to_list)", fn -> Series.to_list(series) end},
  {"copy (from_binary)", fn -> Series.from_binary(binary, :f64) end}
]

for {label, fun} <- measurements do
  ns_per_element = B.median_us(fun) * 1000 / n
  IO.puts(String.pad_trailing(label, 40) <> "#{B.fmt(ns_per_element)} ns/element")
end
