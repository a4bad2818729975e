defmodule AnalyticsService.Router do
  @moduledoc """
  The endpoints. Each takes the request and answers `{status, json_term}`
  (or, for the dashboard's page and assets, `{status, {:asset,
  content_type, bytes}}`); nothing here knows about HTTP servers.

      GET  /                             the dashboard (`AnalyticsService.Dashboard`)

      GET  /health                       cache state and age, Redis state
      GET  /metrics                      every metric with its points and span
      GET  /metrics/:name/summary        ?from&to&reducers=mean,p99,...
      GET  /metrics/:name/buckets        ?from&to&width=3600&reducers=...
      GET  /metrics/:name/groups         ?from&to&by=hour_of_day&reducers=...
      GET  /metrics/:name/chart          ?from&to&width=1200 (pixels)
      POST /query                        {"metric", "from", "to", "map",
                                          "where", "group_by", "reducers"}

  Times are unix seconds; `from` is inclusive, `to` exclusive, both
  optional. Bad requests get 4xx with `{"error": message}`, among them
  more than 64 query parameters, a reducer asked for twice, more than
  100,000 buckets or groups or 250,000 results (buckets or groups ×
  reducers), all refused before the work is done; every name the service
  does not know gets the same message.

  `/chart` answers the points of a line chart `width` pixels wide (M4, see
  `Analytics.downsample/4`): `{"times": [...], "values": [...], "first",
  "last", "width", "rows"}`, at most 4 × width points, where `first` and
  `last` are the range cut into `width` equal slices, both inclusive (the
  x axis to draw them on: `from` and `to - 1`, or the data's ends), and
  `rows` the points in the range. Drawn over that range at that width,
  they cover the same pixels as every point would.

  `/health` says `ok`; `stale` (200) when the last refresh failed or the
  data is older than the service's `:stale_after` (a refresh hanging on a
  Redis that does not answer; by default the refresh interval + twice the
  last refresh's duration + 30 s); `starting` (503) before the first load;
  `no_metrics` (503) when Redis holds no metrics.
  """
  alias Analytics.{Cache, Series}
  alias AnalyticsService.{BadRequest, Dashboard, JSON, Metrics, Params}

  @value Analytics.Expr.parse!("value")
  # Far more than any endpoint reads; decoding stays cheap.
  @max_query_params 64

  @type context :: %{cache: Cache.name(), backend: module()}
  @type request :: %{
          method: String.t(),
          path: [String.t()],
          query: String.t() | nil,
          body: binary()
        }

  @spec handle(request(), context()) :: {pos_integer(), term() | Dashboard.asset()}
  def handle(request, context) do
    request = %{request | query: decode_query(request.query)}
    # HEAD answers as GET does; the server leaves the body out.
    method = if request.method == "HEAD", do: "GET", else: request.method
    route(method, request.path, request, context)
  rescue
    error in BadRequest -> {error.status, %{error: error.message}}
    # The library names what is wrong with an argument it cannot use.
    error in ArgumentError -> {400, %{error: Exception.message(error)}}
  end

  @doc """
  Whether the request works on metric data (every endpoint but the
  dashboard's page and assets and `/health`): the requests the server
  takes turns for.
  """
  @spec reads_metrics?(request()) :: boolean()
  def reads_metrics?(%{path: path}), do: match?(["metrics" | _], path) or path == ["query"]

  defp decode_query(nil), do: %{}

  defp decode_query(query) do
    if length(:binary.matches(query, "&")) >= @max_query_params do
      raise BadRequest, "at most #{@max_query_params} query parameters"
    end

    # "?&width=3" (an empty range before it) has an empty piece: no parameter.
    pairs = query |> URI.query_decoder() |> Enum.reject(&(&1 == {"", ""}))

    case pairs |> Enum.map(&elem(&1, 0)) |> duplicate() do
      nil -> Map.new(pairs)
      name -> raise BadRequest, "parameter #{short_name(name)} is given more than once"
    end
  rescue
    ArgumentError -> raise BadRequest, "malformed query string"
  end

  defp duplicate(names) do
    Enum.reduce_while(names, MapSet.new(), fn name, seen ->
      if name in seen, do: {:halt, name}, else: {:cont, MapSet.put(seen, name)}
    end)
    |> then(&if is_binary(&1), do: &1)
  end

  defp short_name(name), do: name |> String.slice(0, 40) |> inspect()

  defp route("GET", [], _request, _context), do: {200, Dashboard.asset([])}

  defp route("GET", ["assets", _name] = path, _request, _context) do
    case Dashboard.asset(path) do
      nil -> raise BadRequest, status: 404, message: "no such endpoint: /#{Enum.join(path, "/")}"
      asset -> {200, asset}
    end
  end

  defp route("GET", ["health"], _request, context), do: health(context)
  defp route("GET", ["metrics"], _request, context), do: list_metrics(context)

  defp route("GET", ["metrics", name, "summary"], request, context),
    do: summary(metric!(context, name), request.query, context)

  defp route("GET", ["metrics", name, "buckets"], request, context),
    do: buckets(metric!(context, name), request.query)

  defp route("GET", ["metrics", name, "groups"], request, context),
    do: groups(metric!(context, name), request.query)

  defp route("GET", ["metrics", name, "chart"], request, context),
    do: chart(metric!(context, name), request.query)

  defp route("POST", ["query"], request, context),
    do: query(JSON.decode_object!(request.body), context)

  defp route(_method, path, request, _context) do
    if Enum.any?(["GET", "POST"], &known_route?(&1, path)) do
      raise BadRequest,
        status: 405,
        message: "#{request.method} is not allowed on /#{Enum.join(path, "/")}"
    end

    raise BadRequest, status: 404, message: "no such endpoint: /#{Enum.join(path, "/")}"
  end

  defp known_route?("POST", ["query"]), do: true
  defp known_route?("GET", []), do: true
  defp known_route?("GET", ["assets", name]), do: Dashboard.asset(["assets", name]) != nil
  defp known_route?("GET", [single]), do: single in ["health", "metrics"]

  defp known_route?("GET", ["metrics", _name, what]),
    do: what in ["summary", "buckets", "groups", "chart"]

  defp known_route?(_method, _path), do: false

  defp health(%{cache: cache} = context) do
    status = Cache.status(cache)
    metrics = length(Metrics.names(cache))

    stale_after =
      context.stale_after || context.refresh + 2 * (status.last_refresh_ms || 0) + 30_000

    # A refresh that hangs (Redis stopped, not gone) raises no error until
    # its timeout: data older than this says so first.
    overdue? = status.age_ms != nil and status.age_ms > stale_after

    state =
      cond do
        status.state == :empty -> "starting"
        status.state == :stale or overdue? -> "stale"
        metrics == 0 -> "no_metrics"
        true -> "ok"
      end

    body = %{
      status: state,
      redis: redis_state(status.last_error, overdue?),
      cache: %{
        state: status.state,
        age_ms: status.age_ms,
        stale_after_ms: stale_after,
        entries: status.entries,
        refreshed_at: status.refreshed_at && DateTime.to_iso8601(status.refreshed_at),
        refreshing: status.refreshing,
        last_refresh_ms: status.last_refresh_ms,
        last_error: status.last_error && Exception.message(status.last_error)
      },
      metrics: metrics
    }

    {if(state in ["starting", "no_metrics"], do: 503, else: 200), body}
  end

  # Only a connection error means Redis is down; a value that could not be
  # decoded leaves the cache stale with Redis up.
  defp redis_state(%Analytics.Redis.ConnectionError{}, _overdue?), do: "down"

  # Up, but the service cannot use it: a wrong password or user.
  defp redis_state(%Analytics.Redis.Error{message: "WRONGPASS" <> _}, _overdue?),
    do: "refuses the credentials"

  defp redis_state(%Analytics.Redis.Error{message: "NOAUTH" <> _}, _overdue?),
    do: "refuses the credentials"

  defp redis_state(_last_error, true), do: "not answering"
  defp redis_state(_last_error, false), do: "up"

  defp list_metrics(%{cache: cache}) do
    metrics =
      for name <- Metrics.names(cache), {:ok, columns} = Metrics.fetch(cache, name) do
        {from, to} = Metrics.span(columns) || {nil, nil}
        %{name: name, points: Series.size(columns.value), from: from, to: to}
      end

    {200, %{metrics: metrics}}
  end

  defp summary(columns, query, context) do
    Params.only!(query, ~w(from to reducers))
    {from, to} = Params.time_range(query)
    labelled = Params.reducers(query)
    window = Metrics.window(columns, from, to)
    results = context.backend.summary(window.value, Enum.map(labelled, &elem(&1, 1)))
    {200, %{rows: Series.size(window.value), result: labelled(labelled, results)}}
  end

  defp buckets(columns, query) do
    Params.only!(query, ~w(from to width reducers))
    {from, to} = Params.time_range(query)
    window = Metrics.window(columns, from, to)
    labelled = Params.reducers(query)
    width = Params.width(query, Metrics.span(window), length(labelled))

    result =
      Analytics.bucket_reduce(
        window.timestamp,
        window.value,
        width,
        Enum.map(labelled, &elem(&1, 1))
      )

    {200, Map.put(columns_of(labelled, result), :buckets, Series.to_list(result.buckets))}
  end

  defp chart(columns, query) do
    Params.only!(query, ~w(from to width))
    {from, to} = Params.time_range(query)
    width = Params.pixels(query)
    window = Metrics.window(columns, from, to)

    case Metrics.span(window) do
      nil ->
        {200, %{times: [], values: [], first: from, last: to && to - 1, width: width, rows: 0}}

      {first, last} ->
        # The request's `to` is exclusive, downsample's inclusive.
        first = from || first
        last = if to, do: to - 1, else: last

        points =
          Analytics.downsample(window.timestamp, window.value, width,
            method: :m4,
            from: first,
            to: last
          )

        {200,
         %{
           times: Series.to_list(points.times),
           values: Series.to_list(points.values),
           first: first,
           last: last,
           width: width,
           rows: Series.size(window.value)
         }}
    end
  end

  defp groups(columns, query) do
    Params.only!(query, ~w(from to by reducers))
    by = Params.group_by(query, "by") || raise BadRequest, "by (a grouping) is required"
    {from, to} = Params.time_range(query)
    grouped(Metrics.window(columns, from, to), by, nil, Params.reducers(query))
  end

  defp query(body, context) do
    Params.only!(body, ~w(metric from to map where group_by reducers))
    name = Map.get(body, "metric") || raise BadRequest, "metric is required"
    unless is_binary(name), do: raise(BadRequest, "metric must be a name")
    {from, to} = Params.time_range(body)
    window = Metrics.window(metric!(context, name), from, to)
    labelled = Params.reducers(body)
    map = Params.expression(body, "map")
    where = Params.expression(body, "where")

    case Params.group_by(body, "group_by") do
      nil ->
        reducers = Enum.map(labelled, &elem(&1, 1))
        results = Analytics.reduce(window, reducers, map: map || @value, where: where)

        {200,
         %{
           rows: Series.size(window.value),
           result: labelled(labelled, Enum.map(reducers, &results[&1]))
         }}

      by ->
        window = if where, do: Analytics.filter(window, where), else: window
        grouped(window, by, map, labelled)
    end
  end

  defp grouped(window, by, map, labelled) do
    keys = window |> Analytics.map(by) |> Series.cast(:i64)
    # Counted before any reducer runs or any answer is built.
    :ok = Params.groups!(Analytics.reduce(keys, :n_distinct), length(labelled))
    values = if map, do: Analytics.map(window, map), else: window.value
    result = Analytics.group_reduce(keys, values, Enum.map(labelled, &elem(&1, 1)))
    {200, Map.put(columns_of(labelled, result), :keys, Series.to_list(result.keys))}
  end

  defp metric!(%{cache: cache}, name) do
    case Metrics.fetch(cache, name) do
      {:ok, columns} -> columns
      :error -> raise BadRequest, status: 404, message: "unknown metric #{inspect(name)}"
    end
  end

  defp labelled(labelled, results) do
    labelled |> Enum.map(&elem(&1, 0)) |> Enum.zip(results) |> Map.new()
  end

  defp columns_of(labelled, result) do
    Map.new(labelled, fn {label, reducer} -> {label, Series.to_list(result[reducer])} end)
  end
end
