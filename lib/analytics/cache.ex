defmodule Analytics.Cache do
  @moduledoc """
  A supervised, prefetched cache of Redis data as `Analytics.Series`.

  The cache owns an `Analytics.Redis` connection. It fetches a configured
  set of keys (and every key matching SCAN patterns) with one
  `Analytics.Redis.fetch_many/3` call, stores the series in a named ETS
  table and refreshes them on an interval. Reads go straight to ETS from the
  caller: they never message the cache process, and they never copy the
  data (an ETS entry holds a reference to the native column).

  A refresh replaces every entry at once, or none: when one value cannot be
  decoded (say, a packed value of the wrong length), the refresh fails with
  an `Analytics.Redis.Error` naming the key.

  When Redis is down, or a refresh fails for any other reason, the cache
  keeps serving the last good data and `status/1` reports it as `:stale`
  with its age; the connection reconnects by itself and the next refresh
  that succeeds makes the data `:fresh` again. A refresh runs in a task, so
  `status/1` answers at once even while a large refresh is on the wire.

  The cache survives its connection: if the connection process dies (even
  while Redis is down), the cache starts another and keeps serving the data
  it has.

  ## Example

      children = [
        {Analytics.Cache,
         name: Metrics,
         redis: [url: "redis://127.0.0.1:6379"],
         keys: [{"requests:bytes", :i64}],
         scan: [{"metric:*:values", :f64}, {"metric:*:ts", :i64}],
         interval: 30_000,
         # start_link returns once the first refresh is over
         await: true}
      ]

      Supervisor.start_link(children, strategy: :one_for_one)
      {:ok, series} = Analytics.Cache.get(Metrics, "requests:bytes")

  Without `await: true`, `start_link/1` returns before the data is in:
  call `await/2` before the first read.

  ## Options

    * `:name` (required) - an atom; it names both the process and the ETS
      table that readers use.
    * `:redis` - options for `Analytics.Redis.start_link/1` (default `[]`),
      checked before the cache starts. The connection is made in the
      background (`:sync_connect` is ignored), so the cache starts even
      while Redis is down. The cache
      keeps them with the password sealed: its state and crash reports never
      show it.
    * `:keys` - a list of `{key, dtype}`, each a packed binary value fetched
      with `{:get, key, dtype}`, or `{name, spec}` with any fetch spec of
      `Analytics.Redis.fetch/3` that gives one Series (the specs of several
      columns, `:zrange_with_scores`, `:hgetall` and `:xrange`, raise
      `ArgumentError`).
    * `:scan` - a list of `{pattern, dtype}`: every key SCAN finds for the
      pattern is cached as `{key, dtype}`, found again on every refresh;
      keys that vanish from Redis vanish from the cache. Over a Redis
      Cluster (`redis: [cluster: [...]]`) every master is scanned.
    * `:interval` - ms between the end of one refresh and the start of the
      next (default 30,000); after a failed refresh, the next comes within
      a second.
    * `:timeout` - ms a refresh may take (default 60,000).
    * `:await` - when `true`, `start_link/1` returns only once the first
      refresh is over, successful or not (default `false`).

  Any other option raises `ArgumentError` naming it.

  ## A cache that is not running

  `get/2`, `keys/1`, `status/1`, `refresh/2` and `await/2` all raise
  `ArgumentError` ("no Analytics.Cache running as ...") for a name with no
  running cache, and for a name that is not an atom.
  """
  use GenServer

  alias Analytics.Redis
  alias Analytics.Redis.{ConnectionError, Options}

  @default_interval 30_000
  @default_timeout 60_000
  @retry_after_failure 1_000
  @scan_count "1000"
  @option_keys [:name, :redis, :keys, :scan, :interval, :timeout, :await]

  @type name :: atom()
  @type entry :: {String.t(), Analytics.Series.dtype()} | {term(), Redis.Spec.t()}
  @type status :: %{
          state: :empty | :fresh | :stale,
          entries: non_neg_integer(),
          age_ms: non_neg_integer() | nil,
          refreshed_at: DateTime.t() | nil,
          refreshing: boolean(),
          last_refresh_ms: non_neg_integer() | nil,
          last_error: Exception.t() | nil
        }

  @doc """
  Starts the cache and its first refresh.

  Returns before the data is in, unless `await: true`: then it returns once
  the first refresh is over (see `await/2`). Every option, the `:redis` ones
  included, is checked first, in the caller: a bad or unknown one raises
  `ArgumentError` and nothing starts.

  ## Examples

      {:ok, _pid} = Analytics.Cache.start_link(name: Metrics, keys: [{"k", :f64}], await: true)
      Analytics.Cache.start_link(name: Metrics, intervl: 5)
      #=> ** (ArgumentError) unknown option :intervl for Analytics.Cache.start_link/1; valid options: ...
  """
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    config = config!(opts)
    GenServer.start_link(__MODULE__, config, name: config.name)
  end

  @doc """
  A child spec whose start arguments hold the options checked and the Redis
  password sealed, so that a supervisor's reports never show it. Raises
  `ArgumentError` for bad options, before the supervisor starts.
  """
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    config = config!(opts)
    sealed = Keyword.put(opts, :redis, config.redis)
    %{id: __MODULE__, start: {__MODULE__, :start_link, [sealed]}}
  end

  @doc """
  The series cached under `key`, read from ETS without copying it.

  ## Examples

      {:ok, series} = Analytics.Cache.get(Metrics, "metric:cpu:values")
      :error = Analytics.Cache.get(Metrics, "no such key")
  """
  @spec get(name(), term()) :: {:ok, Analytics.Series.t()} | :error
  def get(cache, key) do
    case :ets.lookup(table!(cache), {:entry, key}) do
      [{_, series}] -> {:ok, series}
      [] -> :error
    end
  end

  @doc """
  Every cached key, sorted.

  ## Example

      ["metric:cpu:ts", "metric:cpu:values"] = Analytics.Cache.keys(Metrics)
  """
  @spec keys(name()) :: [term()]
  def keys(cache), do: cache |> table!() |> entry_keys() |> Enum.sort()

  # The keys alone, without copying the series out of the table.
  defp entry_keys(table), do: :ets.select(table, [{{{:entry, :"$1"}, :_}, [], [:"$1"]}])

  @doc """
  How current the data is.

  `:state` is `:empty` before the first successful refresh, `:fresh` when
  the latest refresh succeeded, and `:stale` when it failed (the last good
  data is still served). `:age_ms` is the time since the data was fetched
  (since its refresh began). `:last_refresh_ms` is how long the latest
  finished refresh took, so a caller can tell a refresh that hangs from one
  that is merely large.

  ## Example

      %{state: :fresh, entries: 2} = Analytics.Cache.status(Metrics)
  """
  @spec status(name()) :: status()
  def status(cache), do: call!(cache, :status, :infinity)

  @doc """
  Refreshes now and waits for it: `:ok`, or `{:error, exception}` when the
  refresh fails (the previous data stays). A refresh already running is
  waited for instead of starting another.

  ## Example

      :ok = Analytics.Cache.refresh(Metrics)
  """
  @spec refresh(name(), timeout()) :: :ok | {:error, Exception.t()}
  def refresh(cache, timeout \\ @default_timeout), do: call!(cache, :refresh, timeout)

  @doc """
  Waits until the cache holds data from a successful refresh: `:ok` at once
  if it does, otherwise when the first refresh succeeds. After `timeout` ms
  without data it returns `{:error, exception}`: the latest refresh's error,
  or a `%Analytics.Redis.ConnectionError{reason: :timeout}` if none failed.

  ## Example

      {:ok, _} = Analytics.Cache.start_link(name: Metrics, keys: [{"k", :f64}])
      :ok = Analytics.Cache.await(Metrics)
      {:ok, series} = Analytics.Cache.get(Metrics, "k")
  """
  @spec await(name(), non_neg_integer()) :: :ok | {:error, Exception.t()}
  def await(cache, timeout \\ @default_timeout)

  def await(cache, timeout) when is_integer(timeout) and timeout >= 0,
    do: call!(cache, {:await, timeout}, :infinity)

  def await(_cache, timeout) do
    raise ArgumentError,
          "await's timeout must be a non-negative integer (ms), got: #{inspect(timeout)}"
  end

  defp table!(cache) do
    if :ets.whereis(name!(cache)) == :undefined, do: not_running!(cache)
    cache
  end

  # A cache that stops during the call is not running either.
  defp call!(cache, request, timeout) do
    GenServer.call(name!(cache), request, timeout)
  catch
    :exit, {reason, {GenServer, :call, _}} when reason in [:noproc, :normal, :shutdown] ->
      not_running!(cache)

    :exit, {{:shutdown, _}, {GenServer, :call, _}} ->
      not_running!(cache)
  end

  defp name!(cache) when is_atom(cache) and cache not in [nil, true, false], do: cache

  defp name!(other) do
    raise ArgumentError, "an Analytics.Cache is named by an atom, got: #{inspect(other)}"
  end

  defp not_running!(cache),
    do: raise(ArgumentError, "no Analytics.Cache running as #{inspect(cache)}")

  defp config!(opts) do
    Options.check_keys!(opts, @option_keys, "Analytics.Cache.start_link/1")
    name = Keyword.get(opts, :name)

    unless is_atom(name) and name not in [nil, true, false] do
      raise ArgumentError, "Analytics.Cache needs a :name atom, got: #{inspect(name)}"
    end

    %{
      name: name,
      redis: Options.seal(redis_options!(Keyword.get(opts, :redis, []))),
      keys: Enum.map(list!(opts, :keys), &entry!/1),
      scan: Enum.map(list!(opts, :scan), &pattern!/1),
      interval: positive!(opts, :interval, @default_interval),
      timeout: positive!(opts, :timeout, @default_timeout),
      await: boolean!(opts, :await)
    }
  end

  # The cache connects in the background whatever :sync_connect says.
  defp redis_options!(redis) when is_list(redis), do: Keyword.delete(redis, :sync_connect)

  defp redis_options!(other) do
    raise ArgumentError, ":redis must be a keyword list of options, got #{Options.kind(other)}"
  end

  defp list!(opts, key) do
    case Keyword.get(opts, key, []) do
      list when is_list(list) -> list
      other -> raise ArgumentError, "#{inspect(key)} must be a list, got: #{inspect(other)}"
    end
  end

  defp entry!({key, dtype}) when is_binary(key) and dtype in [:f64, :i64],
    do: {key, {:get, key, dtype}}

  defp entry!({_name, spec} = entry) when is_tuple(spec) do
    # Raises ArgumentError for a bad spec now rather than at every refresh.
    Redis.Spec.to_request(spec)

    if Redis.Spec.several_columns?(spec) do
      raise ArgumentError,
            "Analytics.Cache stores one Series per entry, and #{inspect(spec)} fetches several columns; " <>
              "fetch it with Analytics.Redis.fetch/3, or cache one column (:zrange_scores, :hvals)"
    end

    entry
  end

  defp entry!(other) do
    raise ArgumentError,
          "a cache key must be {key, :f64 | :i64} or {name, fetch_spec}, got: #{inspect(other)}"
  end

  defp pattern!({pattern, dtype} = scan) when is_binary(pattern) and dtype in [:f64, :i64],
    do: scan

  defp pattern!(other) do
    raise ArgumentError, "a scan must be {pattern, :f64 | :i64}, got: #{inspect(other)}"
  end

  defp positive!(opts, key, default) do
    case Keyword.get(opts, key, default) do
      ms when is_integer(ms) and ms > 0 ->
        ms

      other ->
        raise ArgumentError, "#{inspect(key)} must be a positive integer, got: #{inspect(other)}"
    end
  end

  defp boolean!(opts, key) do
    case Keyword.get(opts, key, false) do
      flag when is_boolean(flag) ->
        flag

      other ->
        raise ArgumentError, "#{inspect(key)} must be true or false, got: #{inspect(other)}"
    end
  end

  @impl true
  def init(config) do
    # The connection's death must not take the data with it: the cache
    # hears of it and starts another.
    Process.flag(:trap_exit, true)
    table = :ets.new(config.name, [:named_table, :protected, read_concurrency: true])

    state = %{
      config: config,
      conn: connect(config.redis),
      table: table,
      task: nil,
      refresh_began: System.monotonic_time(:millisecond),
      last_refresh_ms: nil,
      waiting: [],
      awaiting: [],
      fetched_at: nil,
      refreshed_at: nil,
      last_error: nil
    }

    if config.await do
      {:ok, finish_refresh(state, fetch_all(state.conn, config))}
    else
      {:ok, start_refresh(state)}
    end
  end

  @impl true
  def handle_call(:status, _from, state) do
    entries = :ets.info(state.table, :size)

    status = %{
      state: freshness(state),
      entries: entries,
      age_ms: state.fetched_at && System.monotonic_time(:millisecond) - state.fetched_at,
      refreshed_at: state.refreshed_at,
      refreshing: state.task != nil,
      last_refresh_ms: state.last_refresh_ms,
      last_error: state.last_error
    }

    {:reply, status, state}
  end

  def handle_call(:refresh, from, state) do
    {:noreply, start_refresh(%{state | waiting: [from | state.waiting]})}
  end

  def handle_call({:await, _timeout}, _from, %{fetched_at: fetched_at} = state)
      when fetched_at != nil,
      do: {:reply, :ok, state}

  def handle_call({:await, timeout}, from, state) do
    timer = Process.send_after(self(), {:await_timeout, from}, timeout)
    {:noreply, %{state | awaiting: [{from, timer} | state.awaiting]}}
  end

  @impl true
  def handle_info(:refresh, state), do: {:noreply, start_refresh(state)}

  def handle_info({ref, result}, %{task: %Task{ref: ref}} = state) do
    Process.demonitor(ref, [:flush])
    {:noreply, finish_refresh(state, result)}
  end

  # A refresh task killed from outside (it never crashes by itself).
  def handle_info({:DOWN, ref, :process, _pid, reason}, %{task: %Task{ref: ref}} = state) do
    error = RuntimeError.exception("cache refresh failed: #{inspect(reason)}")
    {:noreply, finish_refresh(state, {:error, error})}
  end

  def handle_info({:EXIT, conn, _reason}, %{conn: conn} = state) do
    {:noreply, %{state | conn: connect(state.config.redis)}}
  end

  # A refresh task's own exit; its result came as a message.
  def handle_info({:EXIT, _pid, _reason}, state), do: {:noreply, state}

  def handle_info({:await_timeout, from}, state) do
    case List.keytake(state.awaiting, from, 0) do
      {{^from, _timer}, awaiting} ->
        GenServer.reply(from, {:error, state.last_error || %ConnectionError{reason: :timeout}})
        {:noreply, %{state | awaiting: awaiting}}

      nil ->
        {:noreply, state}
    end
  end

  # In the background: the cache starts, and lives on, while Redis is down;
  # the first refresh's requests wait for the first attempt to connect.
  defp connect(redis_opts) do
    {:ok, conn} = Redis.start_link(redis_opts)
    conn
  end

  defp freshness(%{fetched_at: nil}), do: :empty
  defp freshness(%{last_error: nil}), do: :fresh
  defp freshness(_state), do: :stale

  defp start_refresh(%{task: %Task{}} = state), do: state

  defp start_refresh(%{config: config, conn: conn} = state) do
    task = Task.async(fn -> fetch_all(conn, config) end)
    %{state | task: task, refresh_began: System.monotonic_time(:millisecond)}
  end

  defp finish_refresh(state, result) do
    state =
      case result do
        {:ok, entries, fetched_at} ->
          store(state.table, entries)
          %{state | fetched_at: fetched_at, refreshed_at: DateTime.utc_now(), last_error: nil}

        {:error, error} ->
          %{state | last_error: error}
      end

    state = %{state | last_refresh_ms: System.monotonic_time(:millisecond) - state.refresh_began}
    reply = if state.last_error, do: {:error, state.last_error}, else: :ok
    Enum.each(state.waiting, &GenServer.reply(&1, reply))
    Process.send_after(self(), :refresh, next_refresh_in(state))
    %{answer_awaiting(state) | task: nil, waiting: []}
  end

  defp answer_awaiting(%{fetched_at: nil} = state), do: state

  defp answer_awaiting(state) do
    for {from, timer} <- state.awaiting do
      Process.cancel_timer(timer)
      GenServer.reply(from, :ok)
    end

    %{state | awaiting: []}
  end

  # After a failure the next try comes sooner, so recovery does not wait a
  # whole interval.
  defp next_refresh_in(%{last_error: nil, config: config}), do: config.interval
  defp next_refresh_in(%{config: config}), do: min(config.interval, @retry_after_failure)

  # New entries go in with one atomic insert; only then do vanished keys go.
  defp store(table, entries) do
    :ets.insert(table, Enum.map(entries, fn {key, series} -> {{:entry, key}, series} end))
    current = MapSet.new(entries, &elem(&1, 0))

    for key <- entry_keys(table),
        not MapSet.member?(current, key),
        do: :ets.delete(table, {:entry, key})
  end

  # A refresh gives a result, whatever happens: the task is linked to the
  # cache, and a crash would take the last good data with it.
  defp fetch_all(conn, config) do
    load(conn, config)
  rescue
    error -> {:error, error}
  catch
    kind, reason ->
      {:error, RuntimeError.exception("cache refresh failed: #{Exception.format(kind, reason)}")}
  end

  defp load(conn, config) do
    started = System.monotonic_time(:millisecond)
    deadline = started + config.timeout

    with {:ok, scanned} <- scan_all(conn, config.scan, deadline),
         entries = Enum.uniq_by(config.keys ++ scanned, &elem(&1, 0)),
         {:ok, results} <- fetch_entries(conn, entries, deadline),
         :ok <- first_error(results) do
      {:ok, Enum.zip(Enum.map(entries, &elem(&1, 0)), results), started}
    end
  end

  # One bad value fails the whole refresh, so that readers never see
  # columns from two different refreshes side by side.
  defp first_error(results) do
    case Enum.find(results, &match?(%Redis.Error{}, &1)) do
      nil -> :ok
      error -> {:error, error}
    end
  end

  defp fetch_entries(_conn, [], _deadline), do: {:ok, []}

  defp fetch_entries(conn, entries, deadline),
    do: Redis.fetch_many(conn, Enum.map(entries, &elem(&1, 1)), timeout: remaining(deadline))

  # Over a cluster, every master is scanned: each holds its own keys.
  defp scan_all(_conn, [], _deadline), do: {:ok, []}

  defp scan_all(conn, patterns, deadline) do
    nodes = Redis.Cluster.masters(conn)

    Enum.reduce_while(patterns, {:ok, []}, fn {pattern, dtype}, {:ok, acc} ->
      case scan_nodes(nodes, pattern, deadline, []) do
        {:ok, keys} -> {:cont, {:ok, acc ++ Enum.map(Enum.sort(keys), &entry!({&1, dtype}))}}
        {:error, _} = error -> {:halt, error}
      end
    end)
  end

  defp scan_nodes([node | nodes], pattern, deadline, acc) do
    case scan(node, pattern, "0", deadline, []) do
      {:ok, keys} -> scan_nodes(nodes, pattern, deadline, keys ++ acc)
      {:error, _} = error -> error
    end
  end

  defp scan_nodes([], _pattern, _deadline, acc), do: {:ok, acc}

  # SCAN may return a key more than once.
  defp scan(conn, pattern, cursor, deadline, acc) do
    args = ["SCAN", cursor, "MATCH", pattern, "COUNT", @scan_count]

    case Redis.command(conn, args, timeout: remaining(deadline)) do
      {:ok, ["0", keys]} -> {:ok, Enum.uniq(keys ++ acc)}
      {:ok, [next, keys]} -> scan(conn, pattern, next, deadline, keys ++ acc)
      {:error, _} = error -> error
    end
  end

  defp remaining(deadline), do: max(deadline - System.monotonic_time(:millisecond), 1)
end
