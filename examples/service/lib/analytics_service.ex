defmodule AnalyticsService do
  @moduledoc """
  The analytics service: an `Analytics.Cache` that keeps every metric of a
  Redis server prefetched as native columns, and an HTTP JSON API
  (`AnalyticsService.Router`) answering summaries, time buckets, grouped
  reductions and map/where queries over them with the analytics library.

      {:ok, _} = AnalyticsService.start(redis: [url: "redis://127.0.0.1:6379"], port: 4000)
      AnalyticsService.port()
      #=> 4000
      :ok = AnalyticsService.stop()

  `start/1` runs the service under the application's supervisor, where it
  outlives the caller: a script can start it and return, and the service
  serves until the node stops (or `stop/1`). `start_link/1` links it to the
  caller instead, for a supervision tree of your own.

  While Redis is down the service answers from the last good data and
  `GET /health` says `"stale"`; it recovers by itself.
  """
  use Supervisor

  alias AnalyticsService.{Backend, HttpServer, Metrics}

  @doc """
  Options: `:redis` (`Analytics.Redis.start_link/1` options), `:ip` and
  `:port` to listen on (default 127.0.0.1 and a free port), `:refresh`
  (ms between cache refreshes, default 30,000), `:stale_after` (ms: a cache
  whose data is older than this is reported stale by `GET /health`, say
  while a refresh hangs on an unresponsive Redis; by default it follows
  the refreshes themselves: the interval + twice the last refresh's
  duration + 30,000, so a large refresh on a slow machine is not taken for
  a hang), `:http` (the HTTP server's limits: connections,
  deadlines, sizes; see `AnalyticsService.HttpServer.start_link/1`),
  `:backend` (`:native`, the default, or `:elixir` to benchmark without
  the library) and `:name` (default `AnalyticsService`).

      AnalyticsService.start_link(redis: [port: 6379], port: 8080, http: [max_connections: 200])
  """
  @spec start_link(keyword()) :: Supervisor.on_start()
  def start_link(opts) do
    HttpServer.check_limits!(Keyword.get(opts, :http, []))
    name = Keyword.get(opts, :name, __MODULE__)
    Supervisor.start_link(__MODULE__, Keyword.put(opts, :name, name), name: name)
  end

  @doc """
  Starts the service under `AnalyticsService.Services`, the application's
  supervisor, unlinked from the caller; the options are those of
  `start_link/1`.

      {:ok, _pid} = AnalyticsService.start(redis: [port: 6379], name: MyService)
  """
  @spec start(keyword()) :: DynamicSupervisor.on_start_child()
  def start(opts) do
    HttpServer.check_limits!(Keyword.get(opts, :http, []))
    name = Keyword.get(opts, :name, __MODULE__)
    spec = Supervisor.child_spec({__MODULE__, opts}, id: name, restart: :transient)
    DynamicSupervisor.start_child(AnalyticsService.Services, spec)
  end

  @doc """
  Stops a service started by `start/1`: its listener closes and its cache
  and Redis connection stop. `{:error, :not_found}` when it is not running.

      :ok = AnalyticsService.stop(MyService)
  """
  @spec stop(atom()) :: :ok | {:error, :not_found}
  def stop(name \\ __MODULE__) do
    case Process.whereis(name) do
      nil -> {:error, :not_found}
      pid -> DynamicSupervisor.terminate_child(AnalyticsService.Services, pid)
    end
  end

  @doc "The port the service listens on."
  @spec port(atom()) :: :inet.port_number()
  def port(name \\ __MODULE__), do: HttpServer.port(http_name(name))

  @doc "The service's cache, for `Analytics.Cache` calls."
  @spec cache(atom()) :: atom()
  def cache(name \\ __MODULE__), do: Module.concat(name, Cache)

  @impl true
  def init(opts) do
    name = Keyword.fetch!(opts, :name)
    refresh = Keyword.get(opts, :refresh, 30_000)

    context = %{
      cache: cache(name),
      backend: backend!(Keyword.get(opts, :backend, :native)),
      refresh: refresh,
      stale_after: Keyword.get(opts, :stale_after)
    }

    children = [
      {Analytics.Cache,
       name: cache(name),
       redis: Keyword.get(opts, :redis, []),
       scan: Metrics.scan_patterns(),
       interval: refresh},
      {HttpServer,
       [
         name: http_name(name),
         ip: Keyword.get(opts, :ip, {127, 0, 0, 1}),
         port: Keyword.get(opts, :port, 0),
         context: context
       ] ++ Keyword.get(opts, :http, [])}
    ]

    Supervisor.init(children, strategy: :one_for_one)
  end

  defp http_name(name), do: Module.concat(name, HttpServer)

  defp backend!(:native), do: Backend.Native
  defp backend!(:elixir), do: Backend.Elixir

  defp backend!(other),
    do: raise(ArgumentError, "backend must be :native or :elixir, got: #{inspect(other)}")
end
