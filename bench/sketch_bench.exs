# Accuracy and size of the mergeable sketches, against the exact reducers on
# the same data, in one run.
#
#   mix run bench/sketch_bench.exs
Code.require_file("bench_helper.exs", __DIR__)
alias BenchHelper, as: B
alias Analytics.Series

IO.puts("approx_n_distinct (HyperLogLog, 2^14 registers): #{B.machine()}")
B.row(["distinct", "estimate", "error %", "state bytes"], [10, 10, 9, 12])

for n <- [1_000, 100_000, 1_000_000, 4_000_000] do
  series = Series.from_list(Enum.to_list(1..n), :i64)
  state = Analytics.partial(series, :approx_n_distinct)
  estimate = Analytics.finalize(state)
  B.row([n, estimate, abs(estimate - n) / n * 100, byte_size(state.hll)], [10, 10, 9, 12])
end

IO.puts("\napprox_quantile (DDSketch, 1% relative accuracy) on 1M log-normal values")

B.row(["q", "exact", "estimate", "rel. error %", "state bytes", "approx us", "exact us"], [
  6,
  10,
  10,
  13,
  12,
  10,
  10
])

:rand.seed(:exsss, {1, 2, 3})
series = Series.from_list(for(_ <- 1..1_000_000, do: :math.exp(:rand.normal() * 2)))

for q <- [0.5, 0.9, 0.99, 0.999] do
  state = Analytics.partial(series, {:approx_quantile, q})
  estimate = Analytics.finalize(state)
  exact = Analytics.reduce(series, {:quantile, q})
  approx_us = B.median_us(fn -> Analytics.reduce(series, {:approx_quantile, q}) end)
  exact_us = B.median_us(fn -> Analytics.reduce(series, {:quantile, q}) end)

  B.row(
    [
      q,
      exact,
      estimate,
      abs(estimate - exact) / exact * 100,
      byte_size(state.dd),
      approx_us,
      exact_us
    ],
    [6, 10, 10, 13, 12, 10, 10]
  )
end
