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

  ## Example

      children = [
        {Analytics.Cache,
         name: Metrics,
         redis: [url: "redis://127.0.0.1:6379"],
         keys: [{"requests:bytes", :i64}],
         scan: [{"metric:*:values", :f64}, {"metric:*:ts", :i64}],
         interval: 30_000}
      ]

      Supervisor.start_link(children, strategy: :one_for_one)
      {:ok, series} = Analytics.Cache.get(Metrics, "requests:bytes")

  ## Options

    * `:name` (required) - an atom; it names both the process and the ETS
      table that readers use.
    * `:redis` - options for `Analytics.Redis.start_link/1` (default `[]`).
      The connection is made in the background, so the cache starts even
      while Redis is down.
    * `:keys` - a list of `{key, dtype}`, each a packed binary value fetched
      with `{:get, key, dtype}`, or `{name, spec}` with any fetch spec of
      `Analytics.Redis.fetch/3`.
    * `:scan` - a list of `{pattern, dtype}`: every key SCAN finds for the
      pattern is cached as `{key, dtype}`, found again on every refresh;
      keys that vanish from Redis vanish from the cache.
    * `:interval` - ms between the end of one refresh and the start of the
      next (default 30,000); after a failed refresh, the next comes within
      a second.
    * `:timeout` - ms a refresh may take (default 60,000).
  """
  use GenServer

  alias Analytics.Redis

  @default_interval 30_000
  @default_timeout 60_000
  @retry_after_failure 1_000
  @scan_count "1000"

  @type name :: atom()
  @type entry :: {String.t(), Analytics.Series.dtype()} | {term(), Redis.Spec.t()}
  @type status :: %{
          state: :empty | :fresh | :stale,
          entries: non_neg_integer(),
          age_ms: non_neg_integer() | nil,
          refreshed_at: DateTime.t() | nil,
          refreshing: boolean(),
          last_error: Exception.t() | nil
        }

  @doc """
  Starts the cache and its first refresh; returns before the data is in.

  Call `refresh/2` to wait for data. Raises `ArgumentError` for bad options.
  """
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    config = config!(opts)
    GenServer.start_link(__MODULE__, config, name: config.name)
  end

  @doc """
  The series cached under `key`, read from ETS without copying it.

  ## Examples

      {:ok, series} = Analytics.Cache.get(Metrics, "metric:cpu:values")
      :error = Analytics.Cache.get(Metrics, "no such key")
  """
  @spec get(name(), term()) :: {:ok, Analytics.Series.t()} | :error
  def get(cache, key) when is_atom(cache) do
    case :ets.lookup(table!(cache), {:entry, key}) do
      [{_, series}] -> {:ok, series}
      [] -> :error
    end
  end

  @doc "Every cached key, sorted."
  @spec keys(name()) :: [term()]
  def keys(cache) when is_atom(cache), do: cache |> table!() |> entry_keys() |> Enum.sort()

  # The keys alone, without copying the series out of the table.
  defp entry_keys(table), do: :ets.select(table, [{{{:entry, :"$1"}, :_}, [], [:"$1"]}])

  @doc """
  How current the data is.

  `:state` is `:empty` before the first successful refresh, `:fresh` when
  the latest refresh succeeded, and `:stale` when it failed (the last good
  data is still served). `:age_ms` is the time since the data was fetched.
  """
  @spec status(name()) :: status()
  def status(cache), do: GenServer.call(cache, :status)

  @doc """
  Refreshes now and waits for it: `:ok`, or `{:error, exception}` when the
  refresh fails (the previous data stays). A refresh already running is
  waited for instead of starting another.
  """
  @spec refresh(name(), timeout()) :: :ok | {:error, Exception.t()}
  def refresh(cache, timeout \\ @default_timeout), do: GenServer.call(cache, :refresh, timeout)

  defp table!(cache) do
    if :ets.whereis(cache) == :undefined do
      raise ArgumentError, "no Analytics.Cache running as #{inspect(cache)}"
    end

    cache
  end

  defp config!(opts) do
    name = Keyword.get(opts, :name)

    unless is_atom(name) and name not in [nil, true, false] do
      raise ArgumentError, "Analytics.Cache needs a :name atom, got: #{inspect(name)}"
    end

    %{
      name: name,
      redis: Keyword.get(opts, :redis, []),
      keys: Enum.map(Keyword.get(opts, :keys, []), &entry!/1),
      scan: Enum.map(Keyword.get(opts, :scan, []), &pattern!/1),
      interval: positive!(opts, :interval, @default_interval),
      timeout: positive!(opts, :timeout, @default_timeout)
    }
  end

  defp entry!({key, dtype}) when is_binary(key) and dtype in [:f64, :i64],
    do: {key, {:get, key, dtype}}

  defp entry!({_name, spec} = entry) when is_tuple(spec) do
    # Raises ArgumentError for a bad spec now rather than at every refresh.
    Redis.Spec.to_request(spec)
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

  @impl true
  def init(config) do
    {:ok, conn} = connect(config.redis)
    table = :ets.new(config.name, [:named_table, :protected, read_concurrency: true])

    state = %{
      config: config,
      conn: conn,
      table: table,
      task: nil,
      waiting: [],
      fetched_at: nil,
      refreshed_at: nil,
      last_error: nil
    }

    {:ok, start_refresh(state)}
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
      last_error: state.last_error
    }

    {:reply, status, state}
  end

  def handle_call(:refresh, from, state) do
    {:noreply, start_refresh(%{state | waiting: [from | state.waiting]})}
  end

  @impl true
  def handle_info(:refresh, state), do: {:noreply, start_refresh(state)}

  def handle_info({ref, result}, %{task: %Task{ref: ref}} = state) do
    Process.demonitor(ref, [:flush])
    {:noreply, finish_refresh(state, result)}
  end

  # Connected at once when Redis is up, so the first refresh finds it ready;
  # otherwise in the background, so the cache starts all the same.
  defp connect(redis_opts) do
    with {:error, _} <- Redis.start_link(Keyword.put(redis_opts, :sync_connect, true)) do
      Redis.start_link(Keyword.put(redis_opts, :sync_connect, false))
    end
  end

  defp freshness(%{fetched_at: nil}), do: :empty
  defp freshness(%{last_error: nil}), do: :fresh
  defp freshness(_state), do: :stale

  defp start_refresh(%{task: %Task{}} = state), do: state

  defp start_refresh(%{config: config, conn: conn} = state) do
    task = Task.async(fn -> fetch_all(conn, config) end)
    %{state | task: task}
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

    reply = if state.last_error, do: {:error, state.last_error}, else: :ok
    Enum.each(state.waiting, &GenServer.reply(&1, reply))
    Process.send_after(self(), :refresh, next_refresh_in(state))
    %{state | task: nil, waiting: []}
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

  defp scan_all(conn, patterns, deadline) do
    Enum.reduce_while(patterns, {:ok, []}, fn {pattern, dtype}, {:ok, acc} ->
      case scan(conn, pattern, "0", deadline, []) do
        {:ok, keys} -> {:cont, {:ok, acc ++ Enum.map(Enum.sort(keys), &entry!({&1, dtype}))}}
        {:error, _} = error -> {:halt, error}
      end
    end)
  end

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
