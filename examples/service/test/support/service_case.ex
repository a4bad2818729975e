defmodule AnalyticsService.ServiceCase do
  @moduledoc """
  Tests through real HTTP: a redis-server on a free loopback port filled by
  the loader, the service on another free port, and :httpc as the client.
  """
  use ExUnit.CaseTemplate
  import ExUnit.Assertions

  alias Analytics.{Redis, RedisServer}

  using do
    quote do
      import AnalyticsService.ServiceCase
    end
  end

  @points 20_000
  @step 60

  def points, do: @points

  @doc """
  Starts Redis, loads `metrics` small metrics into it, and the service the
  way the main job (run.exs) does: `AnalyticsService.start/1`, called from
  a process that ends as soon as it returns, as the script's does. The
  service is stopped when the test ends.
  """
  def start_service!(opts \\ []) do
    server = RedisServer.start!()
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server))
    names = load!(conn, Keyword.get(opts, :metrics, 10))
    name = Keyword.get(opts, :name, AnalyticsService)

    service_opts =
      [
        name: name,
        redis: [url: RedisServer.url(server)],
        refresh: Keyword.get(opts, :refresh, 30_000),
        backend: Keyword.get(opts, :backend, :native),
        # A fixed port, as `run.exs --port` gives.
        port: Keyword.get_lazy(opts, :port, &Analytics.RedisServer.free_port/0)
      ] ++ Keyword.take(opts, [:http, :stale_after])

    start_from_passing_process!(service_opts)
    :ok = Analytics.Cache.refresh(AnalyticsService.cache(name))
    %{server: server, conn: conn, names: names, port: AnalyticsService.port(name), name: name}
  end

  @doc "`AnalyticsService.start/1` from a process that ends once it returns."
  def start_from_passing_process!(opts) do
    {:ok, pid} = Task.async(fn -> AnalyticsService.start(opts) end) |> Task.await(30_000)
    name = Keyword.get(opts, :name, AnalyticsService)
    on_exit(fn -> AnalyticsService.stop(name) end)
    pid
  end

  @doc "Loads `metrics` metrics of `points` points each (one a minute), ending at a fixed time."
  def load!(conn, metrics, points \\ @points) do
    AnalyticsService.Loader.load(conn,
      metrics: metrics,
      points: points,
      step: @step,
      ends_at: 1_764_000_000
    )
  end

  @doc "The service still answers: /health is ok and a summary of cpu.web-01 reads every point."
  def still_serving(port) do
    assert {200, %{"status" => "ok"}} = get!(port, "/health")
    assert {200, %{"rows" => @points}} = get!(port, "/metrics/cpu.web-01/summary?reducers=count")
  end

  @doc "`{status, decoded JSON}` of a GET."
  def get!(port, path) do
    request!(:get, {~c"http://127.0.0.1:#{port}#{path}", []})
  end

  @doc "`{status, decoded JSON}` of a POST with `body` (a term made JSON, or raw iodata)."
  def post!(port, path, body) do
    body = if is_map(body), do: :jiffy.encode(body), else: body
    request!(:post, {~c"http://127.0.0.1:#{port}#{path}", [], ~c"application/json", body})
  end

  defp request!(method, request) do
    {:ok, {{_, status, _}, headers, body}} =
      :httpc.request(method, request, [timeout: 30_000], body_format: :binary)

    if body != "" do
      assert {~c"content-type", ~c"application/json"} in headers
    end

    {status, if(body == "", do: nil, else: :jiffy.decode(body, [:return_maps, null_term: nil]))}
  end

  @doc "A metric's columns as Elixir lists, read from Redis directly."
  def reference_columns(conn, name) do
    {ts_key, values_key} = AnalyticsService.Metrics.keys(name)
    {:ok, [ts, values]} = Redis.pipeline(conn, [["GET", ts_key], ["GET", values_key]])
    {for(<<t::signed-native-64 <- ts>>, do: t), for(<<x::float-native-64 <- values>>, do: x)}
  end
end
