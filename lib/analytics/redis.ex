defmodule Analytics.Redis do
  @moduledoc """
  An asynchronous Redis connection with a native IO engine.

  Every connection in the node is served by one shared reactor: a small
  fixed pool of native IO threads (one by default; `config :analytics,
  io_threads: n`, at most the number of cores) each running an epoll loop
  over many non-blocking sockets (plain TCP, Unix domain sockets or TLS,
  see "TLS"), pipelining the requests of every caller.
  A connection is state on that loop, not a thread: 200 connections add no
  OS thread. A call formats its command in C++ and, when the connection has
  nothing queued before it, writes it from the calling scheduler with one
  non-blocking send; whatever the socket does not take at once, the replies,
  timeouts and reconnects are the reactor's. No BEAM scheduler ever waits on
  a socket, and no Elixir process sits between the caller and the engine.
  `fetch/3` decodes numbers straight into an `Analytics.Series`.

  ## Example

      {:ok, conn} = Analytics.Redis.start_link(url: "redis://127.0.0.1:6379/0", sync_connect: true)
      {:ok, "OK"} = Analytics.Redis.command(conn, ["SET", "k", "1"])
      {:ok, [1, "1"]} = Analytics.Redis.pipeline(conn, [["INCR", "n"], ["GET", "k"]])
      {:ok, series} = Analytics.Redis.fetch(conn, {:lrange, "latencies", 0, -1, :f64})

  ## Redis Cluster

  `start_link(cluster: ["redis://127.0.0.1:7000", ...])` talks to a Redis
  Cluster through the same functions: each command goes to the master
  owning its key's hash slot, a pipeline or `fetch_many/3` over keys of
  several masters is split per master, sent to all at once and answered in
  the caller's order, and `MOVED` and `ASK` redirections are followed. See
  `Analytics.Redis.Cluster`.

  ## Redis Sentinel

  `start_link(sentinel: [sentinels: ["redis://127.0.0.1:26379", ...], group: "mymaster"])`
  asks the sentinels for the group's primary (or, with `role: :replica`, a
  replica), checks its `ROLE` and connects to it; after a failover, calls
  in flight fail as with one server and later calls go to the new primary.
  See `Analytics.Redis.Sentinel`.

  ## Errors

  As in Redix: an error reply is `{:error, %Analytics.Redis.Error{}}` (in a
  pipeline, the `%Error{}` takes the place of that command's value), and
  connection trouble is `{:error, %Analytics.Redis.ConnectionError{reason: reason}}`
  with `:timeout`, `:disconnected`, `:closed`, `:protocol_error` or
  `:reply_too_large` (see `Analytics.Redis.ConnectionError`); `command!/3`
  and `pipeline!/3` raise them instead. Every call gets
  exactly one answer, no later than its timeout. A lost connection is
  re-established in the background with exponential backoff and jitter,
  re-running AUTH and SELECT; calls made meanwhile fail at once with `:closed`,
  or with the server's `%Analytics.Redis.Error{}` (such as `WRONGPASS ...`)
  when it refused the credentials. A new connection starts in the background
  (see `start_link/1`): calls made during its first attempt wait for it.

  A caller that dies is noticed through a monitor and its pending requests
  are dropped.

  ## Limits

  `:max_reply_bytes` (default 512 MiB) bounds each reply twice: the bytes
  the reader buffers before a reply is complete, and the reply's decoded
  size, counted as it is read: 24 bytes per element plus its strings' bytes
  for `command/3` and `pipeline/3` (each reply of a pipeline on its own), 8
  bytes per number for a fetch. An array is charged for all its declared
  elements before any arrives, so an array that could never fit is refused
  at once. A reply over the limit fails the pending callers with
  `:reply_too_large` and the connection reconnects.

  A reply nobody waits for any more (its caller timed out or died) is read
  and dropped without being stored, to keep the connection in sync. If it is
  still arriving 2 s after its caller gave up (or after the replies before it
  ended), the connection is reset instead: the requests behind it fail with
  `:disconnected` and the connection reconnects, so a reply that never ends,
  or many replies for killed callers, cannot hold the connection.

  Blocking commands (BLPOP and friends) hold the whole pipelined connection
  while they wait: give them a connection of their own (and a call timeout
  longer than the block, or the connection is reset 2 s after the timeout,
  see "Limits").

  Every caller's reply is matched to its command by order, so commands that
  break that order or change the shared connection behind the other callers'
  backs raise `ArgumentError` before anything is sent: SUBSCRIBE and the other
  pub/sub commands, MONITOR, CLIENT REPLY, and AUTH, SELECT, HELLO and RESET
  (a reconnect would silently undo them; use the `:username`, `:password` and
  `:database` options).

  ## TLS

  A `rediss://` URL or the `:ssl` option connects over TLS (OpenSSL, driven
  non-blocking by the reactor, handshake included; a request sent from the
  calling scheduler is encrypted there, under the connection's lock, as
  the reactor's reads are). `ssl: true` takes the defaults; a keyword list
  sets, named as Erlang's `:ssl` names them:

    * `:cacertfile` - a PEM file of the CAs to trust (default: the system
      CA bundle, `/etc/ssl/certs`)
    * `:certfile`, `:keyfile` - a client certificate (PEM, with its chain)
      and its key, for servers that require one (mutual TLS, Redis's
      `tls-auth-clients yes`); the key is read from `:certfile` when
      `:keyfile` is not given. A key under a passphrase is not supported
      (`ArgumentError`).
    * `:verify` - `:verify_peer` (default) or `:verify_none`
    * `:server_name_indication` - a host name (a charlist) sent as SNI and
      checked against the certificate instead of `:host`, or `:disable` to
      send no SNI (the certificate is still checked against `:host`)

  With `:verify_peer`, the server's certificate must chain to a trusted CA
  and name the host: a DNS name in its subjectAltName, or its common name
  when it has none (no SNI is sent for an IP address, which must then be
  among the certificate's IP addresses). A
  certificate that does not verify is `{:error, %ConnectionError{}}` from a
  sync connect, whose message says why (for example `TLS handshake failed:
  certificate verify failed: hostname mismatch`); connecting in the
  background, calls fail with `:closed` (that message as its `:cause`)
  while it retries. A TLS client at a
  plain port fails when its connect timeout runs out (the message says it
  happened during the TLS handshake); a plain client at a TLS port is cut
  off by the server (`:disconnected`, or `:econnreset` while
  authenticating). A TLS connect without a password or database sends one
  PING, so that a server refusing a client certificate (which TLS 1.3 only
  reports after the handshake) fails the connect too.

  Callers find the engine through `:persistent_term`, so a call never
  messages the connection process. The process owns its engine through a
  native monitor: however it dies, even killed outright with `:kill`, the
  engine stops, its socket closes and pending callers get `:closed`.
  """
  use GenServer

  alias Analytics.Native
  alias Analytics.Redis.{Cluster, ConnectionError, Error, Options, Spec}

  # How much longer than its timeout a caller waits for the engine's answer
  # before giving up on its own (the engine always answers by the deadline).
  @grace_ms 1_000

  @type conn :: GenServer.server()
  @type value :: binary() | integer() | nil | [value()] | Analytics.Redis.Error.t()
  @type error :: Analytics.Redis.Error.t() | ConnectionError.t()
  @type call_option :: {:timeout, timeout()}
  @typedoc "What a fetch spec gives: one Series, or a tuple of them for a spec of several columns."
  @type fetched :: Analytics.Series.t() | tuple()
  @type option ::
          {:url, String.t()}
          | {:host, String.t()}
          | {:port, :inet.port_number()}
          | {:socket, Path.t()}
          | {:username, String.t()}
          | {:password, String.t() | (() -> String.t())}
          | {:database, non_neg_integer()}
          | {:timeout, pos_integer()}
          | {:max_reply_bytes, pos_integer()}
          | {:sync_connect, boolean()}
          | {:ssl, boolean() | [ssl_option()]}
          | {:name, GenServer.name()}
          | {:cluster, [String.t() | keyword()]}
          | {:sentinel, keyword()}

  @typedoc "A TLS option (see \"TLS\" above), named as Erlang's `:ssl` names it."
  @type ssl_option ::
          {:cacertfile, Path.t()}
          | {:certfile, Path.t()}
          | {:keyfile, Path.t()}
          | {:verify, :verify_peer | :verify_none}
          | {:server_name_indication, charlist() | :disable}

  @doc """
  Starts a connection process.

  By default, as in Redix, it returns at once and connects in the
  background, retrying with backoff, so that an application boots while
  Redis is down (connecting runs on the reactor, never on the caller's
  scheduler). Calls made during the first attempt wait for it; once an
  attempt has failed, calls fail at once with `:closed` (or with the
  server's `%Error{}` when it refused the credentials, such as `WRONGPASS`)
  until a retry connects: that `%ConnectionError{reason: :closed}` names the
  address and the latest attempt's reason as `:cause` ("not connected to
  127.0.0.1:6379 (last attempt: econnrefused)"). With `sync_connect: true` it connects
  and authenticates before returning, and returns
  `{:error, %ConnectionError{}}` (naming host and port) when the server
  cannot be reached, or `{:error, %Error{}}` when it refuses the
  credentials.

  Options:

    * `:url` - `"redis://[[user]:password@]host[:port][/db]"`, or
      `rediss://` for TLS, or `"redis+unix://[[user]:password@]/path/to/socket[?db=N]"`
      for a Unix domain socket; the user info runs to the last `@`, so a
      password may hold `@` or `/` (percent-encoding is decoded too)
    * `:socket` - the path of a Unix domain socket to connect to instead of
      host and port
    * `:host`, `:port`, `:username`, `:password`, `:database` - explicit
      options win over the URL's parts (defaults `"127.0.0.1"`, 6379, no
      user, no password, database 0). `:password` may be a string or a
      zero-arity function returning one.
    * `:timeout` - the connect timeout in ms (default 5,000)
    * `:max_reply_bytes` - default 512 MiB, Redis's own bulk limit; bounds what a
      reply buffers and takes decoded (see "Limits" above)
    * `:sync_connect` - default `false` (see above)
    * `:ssl` - `false` (default, or `true` with a `rediss://` URL), `true`,
      or TLS options (see "TLS" in the module docs); it wins over the URL's
      scheme. Its files are checked to exist before anything starts.
    * `:name` - a `GenServer` name
    * `:cluster` - a non-empty list of seed nodes of a Redis Cluster (URLs,
      or keyword lists of the options above); the other options, but for
      `:url`, `:host`, `:port` and `:database`, apply to every node (see
      `Analytics.Redis.Cluster`)
    * `:sentinel` - `[sentinels: [url, ...], group: name, role: :primary | :replica]`:
      the server is the one the sentinels name (see `Analytics.Redis.Sentinel`)

  Every option is checked before anything starts: an unknown option or a
  bad value raises `ArgumentError` naming it. No message, stack trace,
  process state or crash report ever shows the password.

  ## Examples

      {:ok, conn} = Analytics.Redis.start_link(url: "redis://:s3cret@127.0.0.1:6379/2")
      {:ok, conn} = Analytics.Redis.start_link(port: 6380, sync_connect: true)
      {:ok, conn} = Analytics.Redis.start_link(url: "redis+unix:///run/redis/redis.sock")
      {:error, %Analytics.Redis.ConnectionError{}} =
        Analytics.Redis.start_link(port: 1, sync_connect: true)
      {:ok, conn} =
        Analytics.Redis.start_link(
          url: "rediss://:s3cret@redis.example.com:6380",
          ssl: [cacertfile: "/etc/redis/tls/ca.crt"]
        )
      {:ok, cluster} =
        Analytics.Redis.start_link(cluster: ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"])
  """
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts \\ []) do
    cond do
      not is_list(opts) -> start_single(opts)
      List.keymember?(opts, :cluster, 0) -> Cluster.start_link(opts)
      List.keymember?(opts, :sentinel, 0) -> Analytics.Redis.Sentinel.start_link(opts)
      true -> start_single(opts)
    end
  end

  defp start_single(opts) do
    endpoint = Options.connect!(opts)

    # Connecting here (a dirty IO NIF) rather than in init/1 returns
    # {:error, _} without an exit signal to the linked caller.
    case connect(endpoint) do
      {:ok, engine} ->
        name_opts = if endpoint.name, do: [name: endpoint.name], else: []

        with {:error, _} = error <- GenServer.start_link(__MODULE__, engine, name_opts) do
          Native.redis_stop(engine)
          error
        end

      {:error, %ConnectionError{} = error} ->
        {:error, %ConnectionError{error | address: address(endpoint)}}

      {:error, _} = error ->
        error
    end
  end

  @doc """
  A child spec whose start arguments hold the options checked, the URL split
  into its parts and the password sealed, so that a supervisor's reports
  never show it.

  ## Example

      children = [{Analytics.Redis, url: "redis://:s3cret@127.0.0.1:6379", name: MyRedis}]
      Supervisor.start_link(children, strategy: :one_for_one)
  """
  @spec child_spec([option()]) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{id: __MODULE__, start: {__MODULE__, :start_link, [Options.seal(opts)]}}
  end

  defp address(%{socket: path}) when is_binary(path), do: path

  defp address(%{host: host, port: port}) do
    if String.contains?(host, ":"), do: "[#{host}]:#{port}", else: "#{host}:#{port}"
  end

  # The one call that carries the password. Every option was checked before,
  # so the NIF has nothing to refuse; should it raise all the same, the
  # stack trace goes on without the arguments.
  defp connect(endpoint) do
    password = Options.reveal!(endpoint.password)

    try do
      Native.redis_connect(
        endpoint.host,
        endpoint.port,
        endpoint.username,
        password,
        endpoint.database,
        endpoint.timeout,
        endpoint.max_reply_bytes,
        endpoint.sync_connect,
        Options.native_tls(endpoint),
        endpoint.socket || "",
        Options.io_threads!()
      )
    catch
      kind, reason ->
        :erlang.raise(kind, hide(reason, password), Options.scrub_stacktrace(__STACKTRACE__))
    end
  end

  defp hide(reason, password) do
    if is_exception(reason) and password != "" and
         String.contains?(Exception.message(reason), password) do
      ArgumentError.exception("connecting failed; the error is not shown as it held the password")
    else
      reason
    end
  end

  @doc "Closes the connection; its pending callers get `:closed`."
  @spec stop(conn()) :: :ok
  def stop(conn), do: GenServer.stop(conn)

  @doc """
  Runs one command, e.g. `["GET", "key"]`.

  Arguments are strings (integers and floats are converted); each travels as
  one bulk string, so a key with spaces, quotes or CRLF is still one argument.
  Option `:timeout`: ms or `:infinity`, default 5,000 (any other option
  raises `ArgumentError`). Commands that would desynchronise the shared
  connection raise `ArgumentError` (see the module docs).

  ## Examples

      {:ok, "OK"} = Analytics.Redis.command(conn, ["SET", "k", 1])
      {:ok, "1"} = Analytics.Redis.command(conn, ["GET", "k"], timeout: :infinity)
  """
  @spec command(conn(), [String.t() | number()], [call_option()]) ::
          {:ok, value()} | {:error, error()}
  def command(conn, args, opts \\ []) do
    timeout = Options.call_timeout!(opts)
    request(conn, [command_args!(args)], [:tree], :single, timeout)
  end

  @doc """
  Like `command/3`, but returns the value itself and raises the error
  (`Analytics.Redis.Error` or `Analytics.Redis.ConnectionError`).

  ## Examples

      "PONG" = Analytics.Redis.command!(conn, ["PING"])
      Analytics.Redis.command!(conn, ["INCR", "a string"])
      #=> ** (Analytics.Redis.Error) ERR value is not an integer or out of range
  """
  @spec command!(conn(), [String.t() | number()], [call_option()]) :: value()
  def command!(conn, args, opts \\ []), do: conn |> command(args, opts) |> ok!()

  @doc """
  Runs several commands in one round trip; `{:ok, values}` with an
  `%Analytics.Redis.Error{}` in place of a command that got an error reply.
  Options as in `command/3`.

  ## Example

      {:ok, [1, "1"]} = Analytics.Redis.pipeline(conn, [["INCR", "n"], ["GET", "n"]])
  """
  @spec pipeline(conn(), [[String.t() | number()]], [call_option()]) ::
          {:ok, [value()]} | {:error, error()}
  def pipeline(conn, commands, opts \\ [])

  def pipeline(conn, [_ | _] = commands, opts) do
    timeout = Options.call_timeout!(opts)
    {commands, slots} = commands_and_slots!(commands, [], [])
    request(conn, commands, slots, :many, timeout)
  end

  def pipeline(_conn, commands, _opts) do
    raise ArgumentError,
          "a pipeline needs a non-empty list of commands, got: #{inspect(commands)}"
  end

  @doc """
  Like `pipeline/3`, but returns the values themselves and raises a
  connection error. As in Redix, an error reply to one command does not
  raise: its `%Analytics.Redis.Error{}` stands in the list.

  ## Example

      ["PONG", %Analytics.Redis.Error{}] =
        Analytics.Redis.pipeline!(conn, [["PING"], ["INCR", "a string"]])
  """
  @spec pipeline!(conn(), [[String.t() | number()]], [call_option()]) :: [value()]
  def pipeline!(conn, commands, opts \\ []), do: conn |> pipeline(commands, opts) |> ok!()

  defp ok!({:ok, value}), do: value
  defp ok!({:error, error}), do: raise(error)

  @doc """
  Fetches numbers into a Series, decoded in C++ as the reply is read.

  Specs: `{:get, key, dtype}` (a packed binary of native-endian 8-byte
  values), `{:mget, keys, dtype}`, `{:lrange, key, start, stop, dtype}` and
  `{:hvals, key, dtype}` (decimal text), `{:zrange_scores, key, start, stop}`
  (the scores of the members ranked `start..stop`, `:f64`), and
  `{:zrangebyscore, key, min, max, dtype}` (the scores from `min` to `max`,
  as `dtype`; a bound is a number, `:infinity`, `:neg_infinity`, or a string
  as Redis takes it, such as `"(1.5"` for an exclusive bound).

  Three specs give several columns, a tuple of Series of the same length:
  `{:zrange_with_scores, key, start, stop, member_dtype}` gives
  `{members, scores}` (ZRANGE ... WITHSCORES: the members ranked
  `start..stop` as numbers of `member_dtype`, and their scores as `:f64`),
  `{:hgetall, key, field_dtype, value_dtype}` gives `{fields, values}` (in
  the hash's order), and `{:xrange, key, start, stop, fields, dtype}` gives
  `{ids, column, ...}`: the entries' ids' milliseconds (`:i64`; entries
  of one millisecond repeat it), then a column of `dtype` per field named in
  `fields` (a non-empty list of distinct strings), in that order. An entry
  without one of the fields has NaN there (an error for `:i64`); other
  fields are skipped, and a field an entry repeats counts once, first. Its
  `start` and `stop` are milliseconds or ids as XRANGE takes them (`"-"`,
  `"+"`, `"1526985054069-0"`, `"(1526985054069-0"`).

  A missing key gives an empty Series (each column empty for a spec of
  several); a missing MGET value is NaN (`:f64`).
  Decimal text is read as Redis reads numbers: an optional sign (`"+5"`),
  and for `:f64` exponents, `inf`, `+inf`, `-inf` and `nan`.

  An error reply (such as WRONGTYPE) or an element that is not a number
  gives `{:error, %Error{}}` whose message names the key and the spec, and
  a bad element by where it is: the list index for `:lrange` (counted from
  the end when `start` and `stop` are negative, as Redis counts), the rank
  for `:zrange_scores` and `:zrange_with_scores` ("the member at rank 3",
  "the score at rank 3"), the key for `:mget`, the field for `:hgetall`
  ("a field name of key h is not an i64: f", "the value of field 17 of key
  h is not a number: x"), the field and entry id for `:xrange` ("the value
  of field temp in entry 1-1 of key s is not a number: hot"), the 0-based
  place in the reply for `:hvals` and `:zrangebyscore`:

      {:error, %Analytics.Redis.Error{message: "list index 1 of key k is not a number: two, " <>
                                               ~s(fetching {:lrange, "k", 0, -1, :f64})}}

  ## Examples

      {:ok, series} = Analytics.Redis.fetch(conn, {:lrange, "latencies", 0, -1, :f64})
      {:ok, {timestamps, values}} = Analytics.Redis.fetch(conn, {:zrange_with_scores, "cpu", 0, -1, :i64})
      {:ok, {fields, values}} = Analytics.Redis.fetch(conn, {:hgetall, "hits", :i64, :i64})
      {:ok, {ms, temp, humidity}} = Analytics.Redis.fetch(conn, {:xrange, "sensor", "-", "+", ["temp", "hum"], :f64})
  """
  @spec fetch(conn(), Spec.t(), [call_option()]) ::
          {:ok, fetched()} | {:error, error()}
  def fetch(conn, spec, opts \\ []) do
    timeout = Options.call_timeout!(opts)
    {command, slot} = Spec.to_request(spec)

    case request(conn, [command], [slot], :single, timeout) do
      {:error, %Error{} = error} -> {:error, name_spec(error, spec)}
      result -> result
    end
  end

  @doc """
  Like `fetch/3`, but returns `{:ok, ref}` at once; the caller later receives
  `{:analytics_redis, ref, {:ok, series} | {:error, error}}` (a tuple of
  Series in place of `series` for a spec of several columns).

  ## Example

      {:ok, ref} = Analytics.Redis.fetch_async(conn, {:hvals, "h", :i64})
      receive do
        {:analytics_redis, ^ref, {:ok, series}} -> series
      end
  """
  @spec fetch_async(conn(), Spec.t(), [call_option()]) :: {:ok, reference()} | {:error, error()}
  def fetch_async(conn, spec, opts \\ []) do
    timeout = Options.call_timeout!(opts)
    {command, slot} = Spec.to_request(spec)
    submit(conn, [command], [slot], :single, timeout)
  end

  @doc """
  Fetches many specs in one round trip: `{:ok, results}` with a Series (a
  tuple of Series for a spec of several columns) or an `%Error{}` per spec,
  in order. Options as in `command/3`.

  ## Example

      {:ok, [a, b]} = Analytics.Redis.fetch_many(conn, [{:get, "a", :f64}, {:hvals, "h", :i64}])
  """
  @spec fetch_many(conn(), [Spec.t()], [call_option()]) ::
          {:ok, [fetched() | Analytics.Redis.Error.t()]} | {:error, error()}
  def fetch_many(conn, specs, opts \\ [])

  def fetch_many(conn, [_ | _] = specs, opts) do
    timeout = Options.call_timeout!(opts)
    {commands, slots} = specs |> Enum.map(&Spec.to_request/1) |> Enum.unzip()

    case request(conn, commands, slots, :many, timeout) do
      {:ok, results} -> {:ok, Enum.zip_with(results, specs, &name_spec/2)}
      error -> error
    end
  end

  def fetch_many(_conn, specs, _opts) do
    raise ArgumentError, "fetch_many needs a non-empty list of specs, got: #{inspect(specs)}"
  end

  # The spec goes into an error only when there is one: inspecting every
  # spec would cost every fetch.
  defp name_spec(%Error{message: message} = error, spec),
    do: %{error | message: "#{message}, fetching #{inspect(spec)}"}

  defp name_spec(result, _spec), do: result

  defp request(conn, commands, slots, shape, timeout) do
    case engine!(conn) do
      {:cluster, routing} -> Cluster.request(routing, commands, slots, shape, timeout)
      engine -> request_engine(engine, commands, slots, shape, timeout)
    end
  end

  defp request_engine(engine, commands, slots, shape, timeout) do
    with {:ok, ref} <- submit_engine(engine, commands, slots, shape, timeout) do
      receive do
        {:analytics_redis, ^ref, result} -> result
      after
        wait_ms(timeout) -> {:error, %ConnectionError{reason: :timeout}}
      end
    end
  end

  defp wait_ms(:infinity), do: :infinity
  defp wait_ms(timeout), do: timeout + @grace_ms

  defp submit(conn, commands, slots, shape, timeout) do
    case engine!(conn) do
      {:cluster, routing} -> Cluster.submit(routing, commands, slots, shape, timeout)
      engine -> submit_engine(engine, commands, slots, shape, timeout)
    end
  end

  @doc false
  # One node's part of a cluster call: the caller receives
  # {:analytics_redis, ref, result} as for fetch_async/3.
  def submit_request(conn, commands, slots, shape, timeout),
    do: submit(conn, commands, slots, shape, timeout)

  defp submit_engine(engine, commands, slots, shape, timeout) do
    ref = make_ref()
    native_timeout = Options.native_timeout(timeout)

    case Native.redis_request(engine, ref, commands, slots, shape, native_timeout) do
      :ok -> {:ok, ref}
      {:error, _} = error -> error
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
