# Scaling of a 128 MiB reduction split over the dirty CPU schedulers
# (parallel: true) against the same call on one (parallel: false), in one run.
#
#   mix run bench/parallel_bench.exs
Code.require_file("bench_helper.exs", __DIR__)
alias BenchHelper, as: B
alias Analytics.Series

rows = div(128 * 1024 * 1024, 8)

series =
  Series.from_binary(
    :crypto.strong_rand_bytes(rows * 8)
    |> then(&for(<<x::64 <- &1>>, into: <<>>, do: <<x / 1.0e19::float-native-64>>)),
    :f64
  )

IO.puts("parallel reduce of #{rows} f64 (128 MiB): #{B.machine()}")
IO.puts("dirty CPU schedulers: #{:erlang.system_info(:dirty_cpu_schedulers_online)}")
B.row(["reducers", "one scheduler ms", "split ms", "speed-up"], [34, 18, 10, 10])

for reducers <- [[:sum], [:sum, :min, :max, :variance], [:mean, {:approx_quantile, 0.99}]] do
  one = B.median_us(fn -> Analytics.reduce(series, reducers, parallel: false) end)
  split = B.median_us(fn -> Analytics.reduce(series, reducers, parallel: true) end)
  B.row([inspect(reducers), one / 1000, split / 1000, one / split], [34, 18, 10, 10])
end
