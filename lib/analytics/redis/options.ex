defmodule Analytics.Redis.Options do
  # Option checking for Analytics.Redis and Analytics.Cache: unknown keys,
  # every value before anything is started or sent, URLs, and keeping the
  # password out of every message, stack trace, state and crash report.
  @moduledoc false

  import Bitwise

  @default_call_timeout 5_000
  @default_connect_timeout 5_000
  @default_max_reply_bytes 512 * 1024 * 1024
  # The bounds the NIF itself enforces: checked here first, so that the NIF,
  # whose arguments a stack trace would show, is never the one to refuse.
  @max_connect_timeout 1 <<< 31
  @max_reply_bytes_limit 1 <<< 40
  @max_database 1 <<< 20
  # What `timeout: :infinity` means to the engine: about 34 years.
  @native_infinity 1 <<< 40

  @connect_keys [
    :url,
    :host,
    :port,
    :socket,
    :username,
    :password,
    :database,
    :timeout,
    :max_reply_bytes,
    :sync_connect,
    :ssl,
    :name
  ]

  @ssl_keys [:cacertfile, :certfile, :keyfile, :verify, :server_name_indication]

  @doc """
  Raises `ArgumentError` unless `opts` is a keyword list whose keys are all
  in `valid`; the message names the first unknown key and lists the valid
  ones. Values are never shown: they may hold a password.
  """
  def check_keys!(opts, valid, who) when is_list(opts) do
    Enum.each(opts, fn
      {key, _value} when is_atom(key) ->
        unless key in valid do
          raise ArgumentError,
                "unknown option #{inspect(key)} for #{who}; valid options: " <>
                  Enum.map_join(valid, ", ", &inspect/1)
        end

      _other ->
        raise ArgumentError,
              "#{who} expects a keyword list of options, got a list with a non-keyword element"
    end)

    opts
  end

  def check_keys!(other, _valid, who) do
    raise ArgumentError, "#{who} expects a keyword list of options, got #{kind(other)}"
  end

  @doc """
  The timeout of one call (`command/3`, `fetch/3`, ...): a non-negative
  integer in ms or `:infinity`, default 5,000.
  """
  def call_timeout!([]), do: @default_call_timeout
  def call_timeout!(timeout: timeout), do: timeout!(timeout)

  def call_timeout!(opts) do
    check_keys!(opts, [:timeout], "an Analytics.Redis call")
    timeout!(Keyword.get(opts, :timeout, @default_call_timeout))
  end

  defp timeout!(timeout) when is_integer(timeout) and timeout >= 0, do: timeout
  defp timeout!(:infinity), do: :infinity

  defp timeout!(other) do
    raise ArgumentError,
          "timeout must be a non-negative integer (ms) or :infinity, got: #{inspect(other)}"
  end

  @doc "The engine's deadline for a call timeout."
  def native_timeout(:infinity), do: @native_infinity
  def native_timeout(ms), do: ms

  @doc """
  Every connect option checked, defaults filled in, and the password sealed
  in a zero-arity function (which prints as `#Function<...>`, never its
  value): a map of `:host`, `:port`, `:socket`, `:username`, `:password`,
  `:database`, `:timeout`, `:max_reply_bytes`, `:sync_connect`, `:ssl`
  (`false` or the checked keyword list) and `:name`. Explicit options win
  over the URL's parts (`ssl:` over a `rediss://` scheme).
  """
  def connect!(opts) do
    check_keys!(opts, @connect_keys, "Analytics.Redis.start_link/1")
    from_url = if Keyword.has_key?(opts, :url), do: parse_url!(opts[:url]), else: %{}

    defaults = %{
      host: "127.0.0.1",
      port: 6379,
      socket: nil,
      username: "",
      password: "",
      database: 0,
      ssl: false
    }

    explicit =
      opts
      |> Keyword.take([:host, :port, :socket, :username, :password, :database, :ssl])
      |> Map.new()

    merged = defaults |> Map.merge(from_url) |> Map.merge(explicit)

    %{
      host: host!(merged.host),
      port: integer!(merged.port, :port, 1, 65_535),
      socket: socket!(merged.socket),
      username: username!(merged.username),
      password: seal!(merged.password),
      database: integer!(merged.database, :database, 0, @max_database),
      timeout:
        integer!(
          Keyword.get(opts, :timeout, @default_connect_timeout),
          :timeout,
          1,
          @max_connect_timeout
        ),
      max_reply_bytes:
        integer!(
          Keyword.get(opts, :max_reply_bytes, @default_max_reply_bytes),
          :max_reply_bytes,
          1,
          @max_reply_bytes_limit
        ),
      sync_connect: sync_connect!(Keyword.get(opts, :sync_connect, false)),
      ssl: ssl!(merged.ssl),
      name: name!(Keyword.get(opts, :name))
    }
  end

  @doc """
  What the NIF takes for TLS: `false`, or `{cacertfile, certfile, keyfile,
  verify_peer?, peer_name, send_sni?}` with `""` for a file not given. The
  server's certificate must name `peer_name`: the `:server_name_indication`
  given, or the host (also with `server_name_indication: :disable`, which
  only keeps the name out of the handshake).
  """
  def native_tls(%{ssl: false}), do: false

  def native_tls(%{ssl: ssl, host: host}) do
    sni = Keyword.get(ssl, :server_name_indication)

    {Keyword.get(ssl, :cacertfile, ""), Keyword.get(ssl, :certfile, ""),
     Keyword.get(ssl, :keyfile, ""), Keyword.get(ssl, :verify, :verify_peer) == :verify_peer,
     if(is_binary(sni), do: sni, else: host), sni != :disable}
  end

  @doc """
  The same options, checked, with the URL split into its parts and the
  password sealed: safe to keep in a child spec or a process state.
  """
  def seal(opts) do
    cond do
      not is_list(opts) -> seal_endpoint(opts)
      List.keymember?(opts, :cluster, 0) -> Analytics.Redis.Cluster.seal(opts)
      List.keymember?(opts, :sentinel, 0) -> Analytics.Redis.Sentinel.seal(opts)
      true -> seal_endpoint(opts)
    end
  end

  defp seal_endpoint(opts) do
    endpoint = connect!(opts)

    endpoint
    |> Map.delete(:name)
    |> Map.to_list()
    |> Enum.sort()
    |> then(&if(endpoint.name, do: [{:name, endpoint.name} | &1], else: &1))
  end

  @doc "The password of a sealed endpoint; raises if a password function returns a non-string."
  def reveal!(sealed) do
    case sealed.() do
      password when is_binary(password) ->
        password

      _other ->
        raise ArgumentError,
              "the :password function must return a string (the value it returned is not shown)"
    end
  end

  @doc """
  `url` with its user info hidden: `redis://user:***@host` or
  `redis://***@host`. The user info is everything before the last `@`, so a
  password holding `@` or `/` is hidden whole.
  """
  def redact_url(url) when is_binary(url) do
    case :binary.matches(url, "@") do
      [] ->
        url

      matches ->
        {at, _} = List.last(matches)
        start = userinfo_start(url, at)
        userinfo = binary_part(url, start, at - start)

        hidden =
          case :binary.split(userinfo, ":") do
            [user, _password] -> user <> ":***"
            [_password] -> "***"
          end

        binary_part(url, 0, start) <> hidden <> binary_part(url, at, byte_size(url) - at)
    end
  end

  defp userinfo_start(url, at) do
    case :binary.match(url, "://", scope: {0, at}) do
      {pos, len} -> pos + len
      :nomatch -> 0
    end
  end

  # The user info runs to the last "@", so a password may hold "@" or "/".
  defp split_userinfo(rest) do
    case :binary.matches(rest, "@") do
      [] ->
        {nil, rest}

      matches ->
        {at, _} = List.last(matches)
        {binary_part(rest, 0, at), binary_part(rest, at + 1, byte_size(rest) - at - 1)}
    end
  end

  # "redis+unix://[[user]:password@]/path[?db=N]": a Unix domain socket.
  defp parse_url!("redis+unix://" <> rest = url) do
    {userinfo, location} = split_userinfo(rest)

    {path, query} =
      case :binary.split(location, "?") do
        [path] -> {path, ""}
        [path, query] -> {path, query}
      end

    unless String.starts_with?(path, "/") do
      bad_url!(url, "expected a URL like redis+unix:///path/to/socket (an absolute path)")
    end

    database =
      case query do
        "" -> %{}
        "db=" <> db -> database!(db, url)
        _ -> bad_url!(url, "the only query a redis+unix URL takes is db=N")
      end

    %{socket: path}
    |> Map.merge(userinfo!(userinfo, url))
    |> Map.merge(database)
  end

  # "redis://[[user]:password@]host[:port][/db]", or rediss:// for TLS.
  # Parsed by hand rather than with URI.parse, which reads a non-numeric
  # port as no port at all.
  defp parse_url!(url) when is_binary(url) do
    {rest, tls} =
      case url do
        "redis://" <> rest -> {rest, %{}}
        "rediss://" <> rest -> {rest, %{ssl: true}}
        _ -> bad_url!(url, "expected a URL like redis://[user:pass@]host:port/db")
      end

    {userinfo, location} = split_userinfo(rest)

    {authority, path} =
      case :binary.split(location, "/") do
        [authority] -> {authority, ""}
        [authority, path] -> {authority, path}
      end

    {host, port} = host_and_port!(authority, url)

    %{host: host}
    |> Map.merge(tls)
    |> Map.merge(if port, do: %{port: port}, else: %{})
    |> Map.merge(userinfo!(userinfo, url))
    |> Map.merge(database!(path, url))
  end

  defp parse_url!(other) do
    raise ArgumentError, "url must be a string, got #{kind(other)}"
  end

  defp host_and_port!("[" <> bracketed, url) do
    case :binary.split(bracketed, "]") do
      [host, ""] when host != "" -> {host, nil}
      [host, ":" <> port] when host != "" -> {host, port!(port, url)}
      _ -> bad_url!(url, "expected a URL like redis://[user:pass@]host:port/db")
    end
  end

  defp host_and_port!(authority, url) do
    case :binary.split(authority, ":") do
      [""] -> bad_url!(url, "expected a URL like redis://[user:pass@]host:port/db")
      ["" | _] -> bad_url!(url, "expected a URL like redis://[user:pass@]host:port/db")
      [host] -> {host, nil}
      [host, port] -> {host, port!(port, url)}
    end
  end

  defp port!(text, url) do
    case Integer.parse(text) do
      {port, ""} when port in 1..65_535 and binary_part(text, 0, 1) != "+" ->
        port

      _ ->
        bad_url!(url, "the port in a URL must be a number from 1 to 65535")
    end
  end

  defp userinfo!(nil, _url), do: %{}

  defp userinfo!(info, url) do
    case :binary.split(info, ":") do
      [password] -> %{password: decode!(password, url)}
      [user, password] -> %{username: decode!(user, url), password: decode!(password, url)}
    end
  end

  # URI.decode's own error would quote the password.
  defp decode!(text, url) do
    URI.decode(text)
  rescue
    ArgumentError -> bad_url!(url, "malformed percent-encoding in the URL's user info")
  end

  defp database!(path, _url) when path in ["", "/"], do: %{}

  defp database!(path, url) do
    case Integer.parse(path) do
      {db, ""} when db >= 0 and binary_part(path, 0, 1) not in ["+", "-"] -> %{database: db}
      _ -> bad_url!(url, "bad database (the URL's path must be a number)")
    end
  end

  defp bad_url!(url, why), do: raise(ArgumentError, "#{why}, got: #{redact_url(url)}")

  defp host!(host) when is_binary(host) and host != "" do
    if String.contains?(host, <<0>>), do: raise(ArgumentError, "host must not contain NUL bytes")
    host
  end

  defp host!(other),
    do: raise(ArgumentError, "host must be a non-empty string, got: #{inspect(other)}")

  # sockaddr_un's sun_path holds 107 bytes and a NUL.
  defp socket!(nil), do: nil

  defp socket!(path) when is_binary(path) and path != "" and byte_size(path) <= 107 do
    if String.contains?(path, <<0>>),
      do: raise(ArgumentError, "socket must not contain NUL bytes")

    path
  end

  defp socket!(other) do
    raise ArgumentError,
          "socket must be the path of a Unix domain socket (a non-empty string of at most 107 bytes), got: " <>
            inspect(other)
  end

  @doc """
  The node's number of Redis IO threads, from `config :analytics, io_threads: n`
  (default 1): a positive integer. The engine clamps it to the number of
  cores, and reads it when the node's first connection starts.
  """
  def io_threads! do
    case Application.get_env(:analytics, :io_threads, 1) do
      n when is_integer(n) and n >= 1 and n <= 1024 ->
        n

      other ->
        raise ArgumentError,
              "config :analytics, io_threads: must be an integer from 1 to 1024, got: #{inspect(other)}"
    end
  end

  defp username!(username) when is_binary(username), do: username

  defp username!(other),
    do: raise(ArgumentError, "username must be a string, got: #{inspect(other)}")

  # Never shows the value: it is the password.
  defp seal!(password) when is_binary(password), do: fn -> password end
  defp seal!(password) when is_function(password, 0), do: password

  defp seal!(other) do
    raise ArgumentError,
          "password must be a string or a zero-arity function returning one, got #{kind(other)} " <>
            "(its value is not shown)"
  end

  defp integer!(value, _key, low, high) when is_integer(value) and value >= low and value <= high,
    do: value

  defp integer!(other, key, low, high) do
    raise ArgumentError,
          "#{key} must be an integer from #{low} to #{high}, got: #{inspect(other)}"
  end

  defp sync_connect!(sync) when is_boolean(sync), do: sync

  defp sync_connect!(other),
    do: raise(ArgumentError, "sync_connect must be true or false, got: #{inspect(other)}")

  # `false`, or the TLS options as a keyword list (the form the child spec
  # keeps and start_link/1 takes again), each file checked to be there.
  defp ssl!(ssl) when ssl in [false, nil], do: false
  defp ssl!(true), do: []

  defp ssl!(ssl) when is_list(ssl) do
    check_keys!(ssl, @ssl_keys, "the :ssl option")

    ssl =
      Enum.map(ssl, fn
        {key, path} when key in [:cacertfile, :certfile, :keyfile] -> {key, file!(key, path)}
        {:verify, verify} -> {:verify, verify!(verify)}
        {:server_name_indication, sni} -> {:server_name_indication, server_name!(sni)}
      end)

    if Keyword.has_key?(ssl, :keyfile) and not Keyword.has_key?(ssl, :certfile) do
      raise ArgumentError, "ssl: a :keyfile needs the :certfile it belongs to"
    end

    ssl
  end

  defp ssl!(other) do
    raise ArgumentError,
          "ssl must be true, false or a keyword list of " <>
            Enum.map_join(@ssl_keys, ", ", &inspect/1) <> ", got: #{inspect(other)}"
  end

  # Erlang's :ssl takes file names as strings or charlists.
  defp file!(key, path) when is_list(path), do: file!(key, List.to_string(path))

  defp file!(key, path) when is_binary(path) and path != "" do
    cond do
      String.contains?(path, <<0>>) ->
        raise ArgumentError, "ssl: #{key} must not contain NUL bytes"

      File.regular?(path) ->
        path

      File.exists?(path) ->
        raise ArgumentError, "ssl: #{key} #{path} is not a regular file"

      true ->
        raise ArgumentError, "ssl: #{key} #{path} does not exist"
    end
  end

  defp file!(key, other) do
    raise ArgumentError, "ssl: #{key} must be a file name (a string), got: #{inspect(other)}"
  end

  defp verify!(verify) when verify in [:verify_peer, :verify_none], do: verify

  defp verify!(other) do
    raise ArgumentError,
          "ssl: verify must be :verify_peer or :verify_none, got: #{inspect(other)}"
  end

  # A host name as a charlist (as Erlang's :ssl takes it) or a string.
  defp server_name!(:disable), do: :disable

  defp server_name!(name) when is_list(name) do
    server_name!(List.to_string(name))
  rescue
    ArgumentError -> bad_server_name!(name)
  end

  defp server_name!(name) when is_binary(name) do
    if name != "" and String.printable?(name) and not String.contains?(name, [" ", <<0>>]),
      do: name,
      else: bad_server_name!(name)
  end

  defp server_name!(other), do: bad_server_name!(other)

  defp bad_server_name!(other) do
    raise ArgumentError,
          "ssl: server_name_indication must be a host name (a charlist) or :disable, got: #{inspect(other)}"
  end

  defp name!(nil), do: nil
  defp name!(name) when is_atom(name), do: name
  defp name!({:global, _} = name), do: name
  defp name!({:via, module, _} = name) when is_atom(module), do: name

  defp name!(other) do
    raise ArgumentError,
          "name must be an atom, {:global, term} or {:via, module, term}, got: #{inspect(other)}"
  end

  # What a value is, without showing it.
  @doc false
  def kind(value) when is_binary(value), do: "a string"
  def kind(value) when is_list(value), do: "a list"
  def kind(value) when is_integer(value), do: "an integer"
  def kind(value) when is_float(value), do: "a float"
  def kind(value) when is_atom(value), do: "an atom"
  def kind(value) when is_map(value), do: "a map"
  def kind(value) when is_tuple(value), do: "a tuple"
  def kind(value) when is_function(value), do: "a function"
  def kind(_value), do: "a term of another type"

  @doc """
  A stack trace with every frame's arguments replaced by their count, so
  that a call carrying the password never shows it.
  """
  def scrub_stacktrace(stacktrace) do
    Enum.map(stacktrace, fn
      {module, fun, args, location} when is_list(args) -> {module, fun, length(args), location}
      frame -> frame
    end)
  end
end
