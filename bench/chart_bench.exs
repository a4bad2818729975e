# Run by bench/chart_bench.sh: starts the service against a redis-server
# holding one 1M-point metric and measures GET /metrics/NAME/chart?width=1200
# with wrk; then, in this VM and paired sample by sample, the chart's own
# work (M4 + JSON) against what an endpoint sending every point would do
# (every point to JSON with the same encoder), with the bytes of each; and
# M4 itself against bucket_reduce with min and max over the same slices.
#
#   cd examples/service && elixir -S mix run ../../bench/chart_bench.exs --redis-port P
Code.require_file("bench_helper.exs", __DIR__)

{opts, _, _} = OptionParser.parse(System.argv(), strict: [redis_port: :integer])

{:ok, _} = AnalyticsService.start_link(redis: [port: Keyword.fetch!(opts, :redis_port)])
:ok = Analytics.Cache.refresh(AnalyticsService.cache(), 300_000)
port = AnalyticsService.port()
[name] = AnalyticsService.Metrics.names(AnalyticsService.cache())

{:ok, %{timestamp: ts, value: values}} =
  AnalyticsService.Metrics.fetch(AnalyticsService.cache(), name)

url = "http://127.0.0.1:#{port}/metrics/#{name}/chart?width=1200"

IO.puts(BenchHelper.machine())
IO.puts("#{Analytics.Series.size(ts)} points, 1,200 pixels")

{out, 0} = System.cmd("wrk", ["-t1", "-c4", "-d10s", "--latency", url])
[_, rps] = Regex.run(~r/Requests\/sec:\s+([\d.]+)/, out)
[_, p50] = Regex.run(~r/\s50%\s+([\d.]+\w+)/, out)
[_, p99] = Regex.run(~r/\s99%\s+([\d.]+\w+)/, out)
errors = if out =~ "Non-2xx", do: " (non-2xx responses!)", else: ""
IO.puts("wrk -t1 -c4 -d10s #{url}: #{rps} req/s, p50 #{p50}, p99 #{p99}#{errors}")

chart = fn ->
  %{times: t, values: v} = Analytics.downsample(ts, values, 1200)

  AnalyticsService.JSON.encode!(%{
    times: Analytics.Series.to_list(t),
    values: Analytics.Series.to_list(v)
  })
end

every_point = fn ->
  AnalyticsService.JSON.encode!(%{
    times: Analytics.Series.to_list(ts),
    values: Analytics.Series.to_list(values)
  })
end

{chart_us, every_us, ratio} = BenchHelper.paired_us(chart, every_point)

IO.puts(
  "in this VM: chart (M4 + JSON) #{BenchHelper.fmt(chart_us / 1000)} ms, #{IO.iodata_length(chart.())} bytes; " <>
    "every point as JSON #{BenchHelper.fmt(every_us / 1000)} ms, #{IO.iodata_length(every_point.())} bytes; " <>
    "ratio #{BenchHelper.fmt(ratio)}x"
)

# M4 against what one would reach for otherwise: bucket_reduce with min and
# max over the same 1,200 time slices (which loses first and last, and
# where in the slice the extremes are).
{first, last} =
  {Analytics.Series.at(ts, 0), Analytics.Series.at(ts, Analytics.Series.size(ts) - 1)}

slice = div(last - first, 1200) + 1
m4 = fn -> Analytics.downsample(ts, values, 1200) end
buckets = fn -> Analytics.bucket_reduce(ts, values, slice, [:min, :max]) end
{m4_us, buckets_us, m4_ratio} = BenchHelper.paired_us(m4, buckets)

IO.puts(
  "downsample M4 #{BenchHelper.fmt(m4_us / 1000)} ms; bucket_reduce [:min, :max] " <>
    "#{BenchHelper.fmt(buckets_us / 1000)} ms; M4 is #{BenchHelper.fmt(m4_ratio)}x as fast"
)

System.halt(0)
