defmodule Analytics.Redis.Sentinel do
  @moduledoc """
  Redis under Sentinel behind the ordinary `Analytics.Redis` API.

  `Analytics.Redis.start_link(sentinel: [sentinels: [...], group: "mymaster"])`
  asks the sentinels, in order, for the group's primary (`SENTINEL
  GET-MASTER-ADDR-BY-NAME`), or with `role: :replica` for a healthy
  replica (`SENTINEL REPLICAS`), checks the server's `ROLE`, and opens an
  ordinary `Analytics.Redis` connection to it. Every call goes there.

  After a failover, calls in flight on the old primary get
  `{:error, %Analytics.Redis.ConnectionError{}}` (`:disconnected` or
  `:closed`, as with one server; Sentinel makes the old primary drop its
  clients), and so may calls made before the sentinels are asked again
  (at most every 100 ms). A write the old primary refuses as a replica now
  (`READONLY`) did not run: it is sent again once the sentinels name
  another server. Later calls go to the new primary, without restarting
  anything. Until Sentinel turns the old primary into a replica, it still
  accepts writes, which the failover then drops: Sentinel's own limit.

  The `:sentinel` option takes `:sentinels` (a non-empty list of sentinel
  URLs, or keyword lists of connect options; a password in a sentinel's URL
  is the sentinel's own), `:group` (the name the sentinels monitor) and
  `:role` (`:primary`, the default, or `:replica`). The other options of
  `Analytics.Redis.start_link/1` (`:password`, `:database`, `:ssl`, ...)
  are for the server, except `:url`, `:host` and `:port`, which come from
  the sentinels. `sync_connect: true` finds the server before
  `start_link/1` returns, or returns the error: no sentinel answering, a
  group no sentinel knows, a server whose role is not the one asked for.
  """
  use GenServer

  alias Analytics.Redis
  alias Analytics.Redis.{Cluster, ConnectionError, Error, Options}

  @ask_timeout 2_000
  @retry_ms 1_000
  @min_refresh_ms 100
  # A replaced connection lives this long, for the answers it still owes.
  @drain_ms 5_000

  @doc false
  # Analytics.Redis.start_link/1 with a :sentinel option.
  def start_link(opts) do
    config = config!(opts)
    name_opts = if config.name, do: [name: config.name], else: []

    if config.sync_connect do
      with {:ok, address} <- locate(config) do
        GenServer.start_link(__MODULE__, {config, address}, name_opts)
      end
    else
      GenServer.start_link(__MODULE__, {config, nil}, name_opts)
    end
  end

  @doc false
  # The options checked, passwords sealed (Options.seal/1 comes here).
  def seal(opts) do
    config = config!(opts)
    name = if config.name, do: [name: config.name], else: []

    name ++
      [
        sentinel: [sentinels: config.sentinels, group: config.group, role: config.role],
        sync_connect: config.sync_connect
      ] ++ Keyword.drop(config.server, [:host, :port, :sync_connect])
  end

  defp config!(opts) do
    {sentinel, rest} = Keyword.pop(opts, :sentinel)

    for key <- [:url, :host, :port, :cluster], Keyword.has_key?(rest, key) do
      raise ArgumentError,
            "#{inspect(key)} cannot be given with :sentinel: the sentinels name the server"
    end

    unless Keyword.keyword?(sentinel) do
      raise ArgumentError,
            ":sentinel must be a keyword list such as [sentinels: [\"redis://127.0.0.1:26379\"], " <>
              "group: \"mymaster\"], got #{Options.kind(sentinel)}"
    end

    Options.check_keys!(sentinel, [:sentinels, :group, :role], "the :sentinel option")
    sentinels = Keyword.get(sentinel, :sentinels)
    group = Keyword.get(sentinel, :group)
    role = Keyword.get(sentinel, :role, :primary)

    unless is_list(sentinels) and sentinels != [] do
      raise ArgumentError,
            ":sentinels needs a non-empty list of sentinel URLs, such as " <>
              "[\"redis://127.0.0.1:26379\"], got: #{inspect(sentinels)}"
    end

    unless is_binary(group) and group != "" do
      raise ArgumentError, ":group must be a non-empty string, got: #{inspect(group)}"
    end

    unless role in [:primary, :replica] do
      raise ArgumentError, ":role must be :primary or :replica, got: #{inspect(role)}"
    end

    server = rest |> Keyword.delete(:name) |> Options.seal()
    name = Options.connect!(Keyword.take(rest, [:name]))[:name]
    timeout = Keyword.fetch!(server, :timeout)

    %{
      sentinels: Enum.map(sentinels, &sentinel!(&1, timeout)),
      group: group,
      role: role,
      server: server,
      name: name,
      sync_connect: Keyword.get(rest, :sync_connect, false)
    }
  end

  defp sentinel!(url, timeout) when is_binary(url),
    do: Options.seal(url: url, timeout: timeout) |> Keyword.delete(:name)

  defp sentinel!([{_, _} | _] = opts, timeout),
    do: Options.seal(Keyword.put_new(opts, :timeout, timeout)) |> Keyword.delete(:name)

  defp sentinel!(other, _timeout) do
    raise ArgumentError,
          "a sentinel must be a URL such as \"redis://127.0.0.1:26379\" or a keyword list of " <>
            "connect options, got #{Options.kind(other)}"
  end

  # -- The process: owns the server connection, asks again on trouble. --

  @impl true
  def init({config, address}) do
    Process.flag(:trap_exit, true)

    state = %{
      config: config,
      address: nil,
      conn: nil,
      version: 0,
      down: nil,
      awaiting: [],
      retry: nil,
      refreshed_at: System.monotonic_time(:millisecond) - @min_refresh_ms
    }

    case address do
      nil ->
        publish(state)
        {:ok, state, {:continue, :locate}}

      address ->
        {:ok, adopt(state, address)}
    end
  end

  @impl true
  def handle_continue(:locate, state), do: {:noreply, relocate(state)}

  @impl true
  def handle_call(:await, from, %{conn: nil, down: nil} = state),
    do: {:noreply, %{state | awaiting: [from | state.awaiting]}}

  def handle_call(:await, _from, state), do: {:reply, :ok, state}

  # A READONLY reply: the caller waits for the sentinels' answer.
  def handle_call({:refresh_now, version}, _from, %{version: version} = state),
    do: {:reply, :ok, relocate(state)}

  def handle_call({:refresh_now, _older}, _from, state), do: {:reply, :ok, state}

  # Calls ask for a refresh this way when a node fails them (see Cluster).
  @impl true
  def handle_cast({:refresh, version}, %{version: version, retry: nil} = state) do
    since = System.monotonic_time(:millisecond) - state.refreshed_at

    if since >= @min_refresh_ms,
      do: {:noreply, relocate(state)},
      else:
        {:noreply, %{state | retry: Process.send_after(self(), :retry, @min_refresh_ms - since)}}
  end

  def handle_cast({:refresh, _version}, state), do: {:noreply, state}

  @impl true
  def handle_info(:retry, state), do: {:noreply, relocate(%{state | retry: nil})}

  def handle_info({:drained, conn}, state) do
    Redis.stop(conn)
    {:noreply, state}
  end

  def handle_info({:EXIT, conn, _reason}, %{conn: conn} = state),
    do: {:noreply, relocate(%{state | conn: nil, address: nil})}

  def handle_info({:EXIT, _pid, _reason}, state), do: {:noreply, state}

  @impl true
  def terminate(_reason, state) do
    :persistent_term.erase({Redis, self()})
    if state.conn, do: Redis.stop(state.conn)
    :ok
  end

  defp relocate(state) do
    state = %{state | refreshed_at: System.monotonic_time(:millisecond)}

    case locate(state.config) do
      {:ok, address} ->
        adopt(state, address)

      {:error, error} ->
        state =
          if state.conn,
            do: state,
            else: %{state | down: error, version: state.version + 1} |> tap(&publish/1)

        state = answer_awaiting(state)

        if state.retry,
          do: state,
          else: %{state | retry: Process.send_after(self(), :retry, @retry_ms)}
    end
  end

  defp adopt(%{address: address, conn: conn} = state, address) when conn != nil, do: state

  defp adopt(state, {host, port} = address) do
    opts = Keyword.merge(state.config.server, host: host, port: port, sync_connect: false)
    {:ok, conn} = Redis.start_link(opts)

    if state.conn, do: Process.send_after(self(), {:drained, state.conn}, @drain_ms)
    state = %{state | address: address, conn: conn, down: nil, version: state.version + 1}
    publish(state)
    answer_awaiting(state)
  end

  defp answer_awaiting(state) do
    Enum.each(state.awaiting, &GenServer.reply(&1, :ok))
    %{state | awaiting: []}
  end

  # Calls read this, as for a cluster: a routing of one node.
  defp publish(state) do
    routing = Cluster.single_node_routing(self(), state.version, state.conn, state.down)
    :persistent_term.put({Redis, self()}, {:cluster, routing})
  end

  # The first sentinel that names a server of the right role.
  defp locate(config) do
    failures =
      Enum.reduce_while(config.sentinels, [], fn sentinel, failures ->
        case ask(sentinel, config) do
          {:ok, address} -> {:halt, {:ok, address}}
          {:error, error} -> {:cont, [{sentinel, error} | failures]}
        end
      end)

    case failures do
      {:ok, address} -> {:ok, address}
      failures -> {:error, locate_error(config.group, Enum.reverse(failures))}
    end
  end

  defp ask(sentinel, config) do
    with {:ok, conn} <- Redis.start_link(Keyword.put(sentinel, :sync_connect, true)) do
      try do
        with {:ok, address} <- candidate(conn, config) do
          verify(address, config)
        end
      after
        Redis.stop(conn)
      end
    end
  end

  defp candidate(conn, %{role: :primary, group: group}) do
    case Redis.command(conn, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", group], timeout: @ask_timeout) do
      {:ok, [host, port]} when is_binary(host) ->
        with {port, ""} <- Integer.parse(port), do: {:ok, {host, port}}, else: (_ -> garbage())

      {:ok, nil} ->
        {:error, %Error{message: "no primary known for group #{inspect(group)}"}}

      {:ok, _other} ->
        garbage()

      {:error, _} = error ->
        error
    end
  end

  defp candidate(conn, %{role: :replica, group: group}) do
    case Redis.command(conn, ["SENTINEL", "REPLICAS", group], timeout: @ask_timeout) do
      {:ok, replicas} when is_list(replicas) ->
        healthy =
          for fields <- replicas,
              is_list(fields),
              info = fields |> Enum.chunk_every(2) |> Map.new(fn [k, v | _] -> {k, v} end),
              flags = String.split(info["flags"] || "", ","),
              not Enum.any?(flags, &(&1 in ["s_down", "o_down", "disconnected"])),
              {port, ""} <- [Integer.parse(info["port"] || "")],
              do: {info["ip"], port}

        case healthy do
          [] -> {:error, %Error{message: "no healthy replica known for group #{inspect(group)}"}}
          _ -> {:ok, Enum.random(healthy)}
        end

      {:ok, _other} ->
        garbage()

      {:error, %Error{message: "ERR No such master" <> _}} ->
        {:error, %Error{message: "no primary known for group #{inspect(group)}"}}

      {:error, _} = error ->
        error
    end
  end

  defp garbage, do: {:error, %Error{message: "its answer is not an address"}}

  # The server must agree about its role: a sentinel's view may lag a
  # failover.
  defp verify({host, port} = address, config) do
    opts = Keyword.merge(config.server, host: host, port: port, sync_connect: true)

    with {:ok, conn} <- Redis.start_link(opts) do
      try do
        expected = if config.role == :primary, do: "master", else: "slave"

        case Redis.command(conn, ["ROLE"], timeout: @ask_timeout) do
          {:ok, [^expected | _]} ->
            {:ok, address}

          {:ok, [role | _]} ->
            {:error,
             %Error{
               message:
                 "#{host}:#{port} has role #{role}, not #{expected} (a failover under way?)"
             }}

          {:error, _} = error ->
            error
        end
      after
        Redis.stop(conn)
      end
    end
  end

  defp locate_error(group, failures) do
    described =
      Enum.map(failures, fn {sentinel, error} ->
        {"#{sentinel[:host]}:#{sentinel[:port]}", error}
      end)

    case Enum.find(described, &match?({_, %Error{}}, &1)) do
      {where, %Error{message: message}} ->
        %Error{message: "sentinel #{where}, group #{inspect(group)}: #{message}"}

      nil ->
        reasons =
          Enum.map_join(described, ", ", fn {where, %ConnectionError{} = error} ->
            "#{where} (#{if is_atom(error.reason), do: error.reason, else: Exception.message(error)})"
          end)

        %ConnectionError{reason: "no sentinel answered for group #{inspect(group)}: " <> reasons}
    end
  end
end
