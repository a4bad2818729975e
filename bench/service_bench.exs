# One row of bench/service_bench.sh: starts the analytics service in this VM
# (under whatever flags the VM was given) against an already loaded
# redis-server, runs wrk against it while the cache refreshes and a probe
# process measures scheduler wake-up lateness, and prints the row.
#
#   cd examples/service && elixir --erl "FLAGS" -S mix run ../../bench/service_bench.exs \
#     --redis-port P --backend native|elixir --label TEXT [--duration 15] [--refresh 5000]
Code.require_file("bench_helper.exs", __DIR__)

{opts, _, _} =
  OptionParser.parse(System.argv(),
    strict: [
      redis_port: :integer,
      backend: :string,
      label: :string,
      duration: :integer,
      refresh: :integer
    ]
  )

backend = String.to_existing_atom(Keyword.fetch!(opts, :backend))
duration = Keyword.get(opts, :duration, 15)

{:ok, _} =
  AnalyticsService.start_link(
    redis: [port: Keyword.fetch!(opts, :redis_port)],
    backend: backend,
    refresh: Keyword.get(opts, :refresh, 5_000)
  )

:ok = Analytics.Cache.refresh(AnalyticsService.cache(), 300_000)
port = AnalyticsService.port()
cache = AnalyticsService.cache()
names = AnalyticsService.Metrics.names(cache)
{:ok, first} = AnalyticsService.Metrics.fetch(cache, hd(names))
{_, last} = AnalyticsService.Metrics.span(first)

# Every request: a random metric's last day, five reducers (two quantiles).
script = Path.join(System.tmp_dir!(), "analytics_service_bench.lua")

File.write!(script, """
local names = {#{Enum.map_join(names, ",", &~s("#{&1}"))}}
request = function()
  local name = names[math.random(#names)]
  return wrk.format("GET", "/metrics/" .. name .. "/summary?from=#{last - 86_400}&reducers=count,mean,p50,p99,max")
end
""")

refreshes_before = Analytics.Cache.status(cache).refreshed_at
probe = Task.async(fn -> BenchHelper.probe_p99(div(duration * 1000, 2)) end)

{out, 0} =
  System.cmd("wrk", [
    "-t1",
    "-c16",
    "-d#{duration}s",
    "--latency",
    "-s",
    script,
    "http://127.0.0.1:#{port}"
  ])

probe_p99 = Task.await(probe, :infinity)
refreshed = Analytics.Cache.status(cache).refreshed_at != refreshes_before

[_, rps] = Regex.run(~r/Requests\/sec:\s+([\d.]+)/, out)
[_, p50] = Regex.run(~r/\s50%\s+([\d.]+\w+)/, out)
[_, p99] = Regex.run(~r/\s99%\s+([\d.]+\w+)/, out)
errors = if out =~ "Non-2xx", do: " (non-2xx responses!)", else: ""

IO.puts(
  String.pad_trailing(Keyword.fetch!(opts, :label), 34) <>
    String.pad_leading(rps, 10) <>
    String.pad_leading(p50, 10) <>
    String.pad_leading(p99, 10) <>
    String.pad_leading("#{probe_p99} us", 12) <>
    String.pad_leading(if(refreshed, do: "yes", else: "no"), 10) <> errors
)

System.halt(0)
