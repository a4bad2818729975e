defmodule Analytics.Redis do
  @moduledoc """
  An asynchronous Redis connection with a native IO engine.

  One native thread per connection runs an event loop over a non-blocking
  socket and pipelines the requests of every caller. A call formats its
  command in C++, queues it and waits for a message; no BEAM scheduler ever
  waits on the socket, and no Elixir process sits between the caller and the
  engine. `fetch/3` decodes numbers straight into an `Analytics.Series`.

  ## Example

      {:ok, conn} = Analytics.Redis.start_link(url: "redis://127.0.0.1:6379/0")
      {:ok, "OK"} = Analytics.Redis.command(conn, ["SET", "k", "1"])
      {:ok, [1, "1"]} = Analytics.Redis.pipeline(conn, [["INCR", "n"], ["GET", "k"]])
      {:ok, series} = Analytics.Redis.fetch(conn, {:lrange, "latencies", 0, -1, :f64})

  ## Errors

  As in Redix: an error reply is `{:error, %Analytics.Redis.Error{}}` (in a
  pipeline, the `%Error{}` takes the place of that command's value), and
  connection trouble is `{:error, %Analytics.Redis.ConnectionError{reason: reason}}`
  with `:timeout`, `:disconnected`, `:closed`, `:protocol_error` or
  `:reply_too_large` (see `Analytics.Redis.ConnectionError`). Every call gets
  exactly one answer, no later than its timeout. A lost connection is
  re-established in the background with exponential backoff and jitter,
  re-running AUTH and SELECT; calls made meanwhile fail at once with `:closed`.

  A caller that dies is noticed through a monitor and its pending requests
  are dropped.

  Blocking commands (BLPOP and friends) hold the whole pipelined connection
  while they wait: give them a connection of their own.

  Every caller's reply is matched to its command by order, so commands that
  break that order or change the shared connection behind the other callers'
  backs raise `ArgumentError` before anything is sent: SUBSCRIBE and the other
  pub/sub commands, MONITOR, CLIENT REPLY, and AUTH, SELECT, HELLO and RESET
  (a reconnect would silently undo them; use the `:username`, `:password` and
  `:database` options).

  Callers find the engine through `:persistent_term`, so a call never
  messages the connection process. The process owns its engine through a
  native monitor: however it dies, even killed outright with `:kill`, the
  engine stops, its socket closes and pending callers get `:closed`.
  """
  use GenServer

  alias Analytics.Native
  alias Analytics.Redis.{ConnectionError, Spec}

  @default_timeout 5_000
  @default_max_reply_bytes 512 * 1024 * 1024
  # How much longer than its timeout a caller waits for the engine's answer
  # before giving up on its own (the engine always answers by the deadline).
  @grace_ms 1_000

  @type conn :: GenServer.server()
  @type value :: binary() | integer() | nil | [value()] | Analytics.Redis.Error.t()
  @type error :: Analytics.Redis.Error.t() | ConnectionError.t()
  @type option ::
          {:url, String.t()}
          | {:host, String.t()}
          | {:port, :inet.port_number()}
          | {:username, String.t()}
          | {:password, String.t()}
          | {:database, non_neg_integer()}
          | {:timeout, pos_integer()}
          | {:max_reply_bytes, pos_integer()}
          | {:sync_connect, boolean()}
          | {:name, GenServer.name()}

  @doc """
  Connects (and authenticates) before returning.

  Options: `:url` (`"redis://[user:pass@]host:port/db"`), or `:host`,
  `:port`, `:username`, `:password`, `:database` (explicit options win over
  the URL); `:timeout`, the connect timeout in ms (default 5,000);
  `:max_reply_bytes` (default 512 MiB, Redis's own bulk limit); `:name`;
  `:sync_connect` (default `true`): with `false`, `start_link/1` returns at
  once and the connection is made in the background, retrying with backoff;
  calls made before it is up fail with `:closed`.

  Returns `{:error, %ConnectionError{}}` when the server cannot be reached
  and `{:error, %Error{}}` when it refuses the credentials.
  """
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts \\ []) do
    endpoint = endpoint(opts)

    # Connecting here (a dirty IO NIF) rather than in init/1 returns
    # {:error, _} without an exit signal to the linked caller.
    case Native.redis_connect(
           endpoint.host,
           endpoint.port,
           endpoint.username,
           endpoint.password,
           endpoint.database,
           endpoint.timeout,
           endpoint.max_reply_bytes,
           sync_connect!(opts)
         ) do
      {:ok, engine} ->
        with {:error, _} = error <-
               GenServer.start_link(__MODULE__, engine, Keyword.take(opts, [:name])) do
          Native.redis_stop(engine)
          error
        end

      {:error, _} = error ->
        error
    end
  end

  @doc "Closes the connection; its pending callers get `:closed`."
  @spec stop(conn()) :: :ok
  def stop(conn), do: GenServer.stop(conn)

  @doc """
  Runs one command, e.g. `["GET", "key"]`.

  Arguments are strings (integers and floats are converted); each travels as
  one bulk string, so a key with spaces, quotes or CRLF is still one argument.
  Option `:timeout` in ms, default 5,000. Commands that would desynchronise
  the shared connection raise `ArgumentError` (see the module docs).
  """
  @spec command(conn(), [String.t() | number()], keyword()) :: {:ok, value()} | {:error, error()}
  def command(conn, args, opts \\ []) do
    request(conn, [command_args!(args)], [:tree], :single, opts)
  end

  @doc """
  Runs several commands in one round trip; `{:ok, values}` with an
  `%Analytics.Redis.Error{}` in place of a command that got an error reply.
  """
  @spec pipeline(conn(), [[String.t() | number()]], keyword()) ::
          {:ok, [value()]} | {:error, error()}
  def pipeline(conn, commands, opts \\ [])

  def pipeline(conn, [_ | _] = commands, opts) do
    {commands, slots} = commands_and_slots!(commands, [], [])
    request(conn, commands, slots, :many, opts)
  end

  def pipeline(_conn, commands, _opts) do
    raise ArgumentError,
          "a pipeline needs a non-empty list of commands, got: #{inspect(commands)}"
  end

  @doc """
  Fetches numbers into a Series, decoded in C++ as the reply is read.

  Specs: `{:get, key, dtype}` (a packed binary of native-endian 8-byte
  values), `{:mget, keys, dtype}`, `{:lrange, key, start, stop, dtype}` and
  `{:hvals, key, dtype}` (decimal text), `{:zrange_scores, key, start, stop}`.
  A missing key gives an empty Series; a missing MGET value is NaN (`:f64`).
  A non-numeric element gives `{:error, %Error{}}` naming key and index.
  """
  @spec fetch(conn(), Spec.t(), keyword()) :: {:ok, Analytics.Series.t()} | {:error, error()}
  def fetch(conn, spec, opts \\ []) do
    {command, slot} = Spec.to_request(spec)
    request(conn, [command], [slot], :single, opts)
  end

  @doc """
  Like `fetch/3`, but returns `{:ok, ref}` at once; the caller later receives
  `{:analytics_redis, ref, {:ok, series} | {:error, error}}`.
  """
  @spec fetch_async(conn(), Spec.t(), keyword()) :: {:ok, reference()} | {:error, error()}
  def fetch_async(conn, spec, opts \\ []) do
    {command, slot} = Spec.to_request(spec)
    submit(conn, [command], [slot], :single, timeout!(opts))
  end

  @doc """
  Fetches many specs in one round trip: `{:ok, results}` with a Series or an
  `%Error{}` per spec, in order.
  """
  @spec fetch_many(conn(), [Spec.t()], keyword()) ::
          {:ok, [Analytics.Series.t() | Analytics.Redis.Error.t()]} | {:error, error()}
  def fetch_many(conn, specs, opts \\ [])

  def fetch_many(conn, [_ | _] = specs, opts) do
    {commands, slots} = specs |> Enum.map(&Spec.to_request/1) |> Enum.unzip()
    request(conn, commands, slots, :many, opts)
  end

  def fetch_many(_conn, specs, _opts) do
    raise ArgumentError, "fetch_many needs a non-empty list of specs, got: #{inspect(specs)}"
  end

  defp request(conn, commands, slots, shape, opts) do
    timeout = timeout!(opts)

    with {:ok, ref} <- submit(conn, commands, slots, shape, timeout) do
      receive do
        {:analytics_redis, ^ref, result} -> result
      after
        timeout + @grace_ms -> {:error, %ConnectionError{reason: :timeout}}
      end
    end
  end

  defp submit(conn, commands, slots, shape, timeout) do
    ref = make_ref()

    case Native.redis_request(engine!(conn), ref, commands, slots, shape, timeout) do
      :ok -> {:ok, ref}
      {:error, _} = error -> error
    end
  end

  defp sync_connect!(opts) do
    case Keyword.get(opts, :sync_connect, true) do
      sync when is_boolean(sync) -> sync
      other -> raise ArgumentError, "sync_connect must be true or false, got: #{inspect(other)}"
    end
  end

  defp timeout!(opts) do
    case Keyword.get(opts, :timeout, @default_timeout) do
      timeout when is_integer(timeout) and timeout >= 0 ->
        timeout

      other ->
        raise ArgumentError, "timeout must be a non-negative integer (ms), got: #{inspect(other)}"
    end
  end

  # Hand-written loops rather than Enum.map with a closure per command: a
  # pipeline may hold thousands of small commands.
  defp commands_and_slots!([command | rest], commands, slots),
    do: commands_and_slots!(rest, [command_args!(command) | commands], [:tree | slots])

  defp commands_and_slots!([], commands, slots),
    do: {:lists.reverse(commands), slots}

  defp commands_and_slots!(improper, _commands, _slots) do
    raise ArgumentError,
          "a pipeline needs a proper list of commands, got a tail of: #{inspect(improper)}"
  end

  defp command_args!([_ | _] = args), do: args!(args)

  defp command_args!(other) do
    raise ArgumentError, "a command must be a non-empty list of arguments, got: #{inspect(other)}"
  end

  defp args!([arg | rest]) when is_binary(arg), do: [arg | args!(rest)]
  defp args!([arg | rest]) when is_integer(arg), do: [Integer.to_string(arg) | args!(rest)]
  defp args!([arg | rest]) when is_float(arg), do: [Float.to_string(arg) | args!(rest)]
  defp args!([]), do: []

  defp args!([other | _]) do
    raise ArgumentError, "command arguments must be strings or numbers, got: #{inspect(other)}"
  end

  defp args!(improper) do
    raise ArgumentError, "a command must be a proper list, got a tail of: #{inspect(improper)}"
  end

  # The engine of a running connection, looked up without messaging it.
  defp engine!(conn) do
    pid = GenServer.whereis(conn)

    # A killed connection's entry may outlive it (until the next connection
    # starts): a dead process is not running, whatever the table says.
    case pid && Process.alive?(pid) && :persistent_term.get({__MODULE__, pid}, nil) do
      falsy when falsy in [nil, false] ->
        raise ArgumentError, "no Analytics.Redis connection running as #{inspect(conn)}"

      engine ->
        engine
    end
  end

  defp endpoint(opts) do
    from_url = if url = opts[:url], do: parse_url!(url), else: %{}

    defaults = %{host: "127.0.0.1", port: 6379, username: "", password: "", database: 0}

    explicit = opts |> Keyword.take([:host, :port, :username, :password, :database]) |> Map.new()

    endpoint = defaults |> Map.merge(from_url) |> Map.merge(explicit)

    Map.merge(endpoint, %{
      timeout: Keyword.get(opts, :timeout, @default_timeout),
      max_reply_bytes: Keyword.get(opts, :max_reply_bytes, @default_max_reply_bytes)
    })
  end

  defp parse_url!(url) when is_binary(url) do
    case URI.parse(url) do
      %URI{scheme: "redis", host: host} = uri when is_binary(host) and host != "" ->
        {username, password} = userinfo(uri.userinfo)

        %{host: host, port: uri.port || 6379, username: username, password: password}
        |> Map.merge(database(uri.path, url))

      _ ->
        raise ArgumentError,
              "expected a URL like redis://[user:pass@]host:port/db, got: #{redact(url)}"
    end
  end

  defp parse_url!(other), do: raise(ArgumentError, "url must be a string, got: #{inspect(other)}")

  defp userinfo(nil), do: {"", ""}

  defp userinfo(info) do
    case String.split(info, ":", parts: 2) do
      [password] -> {"", URI.decode(password)}
      [user, password] -> {URI.decode(user), URI.decode(password)}
    end
  end

  defp database(path, _url) when path in [nil, "", "/"], do: %{}

  defp database("/" <> db, url) do
    case Integer.parse(db) do
      {n, ""} when n >= 0 -> %{database: n}
      _ -> raise ArgumentError, "bad database in #{redact(url)}"
    end
  end

  # Never show a password, not even in an error about a bad URL.
  defp redact(url), do: String.replace(url, ~r{//([^:@/]*):[^@/]*@}, "//\\1:***@")

  @impl true
  def init(engine) do
    Process.flag(:trap_exit, true)
    :ok = Native.redis_own(engine)
    forget_dead_connections()
    :persistent_term.put({__MODULE__, self()}, engine)
    {:ok, %{engine: engine}}
  end

  # A connection killed outright cannot erase its own entry (its engine has
  # stopped through the owner monitor); the next connection to start does.
  defp forget_dead_connections do
    for {{__MODULE__, pid} = key, _engine} <- :persistent_term.get(),
        is_pid(pid) and not Process.alive?(pid),
        do: :persistent_term.erase(key)
  end

  @impl true
  def terminate(_reason, %{engine: engine}) do
    :persistent_term.erase({__MODULE__, self()})
    Native.redis_stop(engine)
  end
end
