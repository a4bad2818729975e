# The main job (run by scripts/demo.sh, which starts redis-server and passes
# its port): loads synthetic metrics into Redis, starts the service, prints
# the dashboard's URL, then how to query it with a few answers, and serves
# until interrupted (or exits at once with --once).
#
#   mix run --no-halt run.exs --redis-port P [--port 8080] [--metrics 100]
#     [--points 1000000] [--once]
#
# --port is the HTTP port (default: a free one, printed); --metrics and
# --points size the synthetic data. demo.sh passes its own arguments on.
alias AnalyticsService.Loader

usage = "usage: run.exs --redis-port P [--port HTTP_PORT] [--metrics N] [--points N] [--once]"

# A misspelt flag stops the script: silently running with the defaults
# would load 100 x 1M points the user did not ask for.
opts =
  case OptionParser.parse(System.argv(),
         strict: [
           redis_port: :integer,
           port: :integer,
           metrics: :integer,
           points: :integer,
           once: :boolean
         ]
       ) do
    {opts, [], []} ->
      opts

    {_opts, rest, invalid} ->
      wrong = Enum.map(invalid, fn {flag, value} -> Enum.join([flag | List.wrap(value)], " ") end)
      IO.puts(:stderr, "run.exs cannot use: #{Enum.join(wrong ++ rest, ", ")}\n#{usage}")
      System.halt(2)
  end

redis_port = Keyword.fetch!(opts, :redis_port)
metrics = Keyword.get(opts, :metrics, 100)
points = Keyword.get(opts, :points, 1_000_000)

say = fn text -> IO.puts("==> " <> text) end
timed = fn fun -> :timer.tc(fun) |> then(fn {us, value} -> {value, div(us, 1000)} end) end

say.(
  "BEAM: #{:erlang.system_info(:schedulers_online)} schedulers, #{:erlang.system_info(:dirty_cpu_schedulers_online)} dirty CPU, #{:erlang.system_info(:dirty_io_schedulers)} dirty IO; analytics #{inspect(Analytics.info())}"
)

{:ok, conn} = Analytics.Redis.start_link(port: redis_port)
{names, load_ms} = timed.(fn -> Loader.load(conn, metrics: metrics, points: points) end)

say.(
  "loaded #{length(names)} metrics x #{points} points (#{div(length(names) * points * 16, 1_048_576)} MiB) into redis-server on 127.0.0.1:#{redis_port} in #{load_ms} ms, pipelined"
)

# Under the application's supervisor, not linked to this script's process:
# `mix run --no-halt` ends that process when the script returns, and the
# service must go on serving.
{:ok, _} =
  AnalyticsService.start(
    redis: [port: redis_port],
    port: Keyword.get(opts, :port, 0),
    refresh: 60_000
  )

{:ok, refresh_ms} = timed.(fn -> Analytics.Cache.refresh(AnalyticsService.cache(), 300_000) end)

say.(
  "the cache prefetched every metric as native columns in #{refresh_ms} ms; it refreshes every 60 s"
)

base = "http://127.0.0.1:#{AnalyticsService.port()}"
# The page first: it is what most people want to open.
say.(
  "the dashboard: #{base}/ (open it in a browser; #metric=NAME&from=T&to=T picks what it shows)"
)

[cpu, latency | _] = names
day = 86_400

{_, last} =
  AnalyticsService.Metrics.fetch(AnalyticsService.cache(), latency)
  |> elem(1)
  |> AnalyticsService.Metrics.span()

examples = [
  {"health", "curl -s #{base}/health"},
  {"metrics", "curl -s #{base}/metrics"},
  {"a day of #{latency}: count, mean, p50, p99, max",
   "curl -s '#{base}/metrics/#{latency}/summary?from=#{last - day}&reducers=count,mean,p50,p99,max'"},
  {"all of #{cpu}: the default summary", "curl -s '#{base}/metrics/#{cpu}/summary'"},
  {"#{cpu} in 6-hour buckets over the last day",
   "curl -s '#{base}/metrics/#{cpu}/buckets?from=#{last - day}&width=21600&reducers=mean,max'"},
  {"#{latency} by hour of day: p99",
   "curl -s '#{base}/metrics/#{latency}/groups?by=hour_of_day&reducers=p99'"},
  {"slow requests (> 50 ms) of #{latency} in seconds",
   ~s(curl -s #{base}/query -d '{"metric": "#{latency}", "where": "value > 50", "map": "value / 1000", "reducers": ["count", "mean", "max"]}')},
  {"a bad expression",
   ~s(curl -s #{base}/query -d '{"metric": "#{latency}", "where": "value >"}')}
]

say.("the service listens on #{base}; try:\n")

for {what, command} <- examples do
  # The same request as the curl line, made from here with :httpc.
  [url | rest] =
    command |> String.replace_prefix("curl -s ", "") |> String.split(" -d ", parts: 2)

  url = String.trim(url, "'")

  request =
    case rest do
      [] ->
        {:get, {String.to_charlist(url), []}}

      [body] ->
        {:post, {String.to_charlist(url), [], ~c"application/json", String.trim(body, "'")}}
    end

  {{:ok, {{_, status, _}, _, body}}, ms} =
    timed.(fn -> :httpc.request(elem(request, 0), elem(request, 1), [], body_format: :binary) end)

  shown = if byte_size(body) > 400, do: binary_part(body, 0, 400) <> " ...", else: body
  IO.puts("# #{what}\n$ #{command}\n#{status} in #{ms} ms: #{shown}\n")
end

if opts[:once] do
  say.("done (--once)")
  System.halt(0)
else
  say.("serving; Ctrl-C stops the service and redis-server")
end
