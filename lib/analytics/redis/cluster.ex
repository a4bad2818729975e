defmodule Analytics.Redis.Cluster do
  @moduledoc """
  Redis Cluster behind the ordinary `Analytics.Redis` API.

  `Analytics.Redis.start_link(cluster: ["redis://127.0.0.1:7000", ...])`
  starts a process that reads the slot map from a seed node (`CLUSTER
  SHARDS`, or `CLUSTER SLOTS` before Redis 7) and opens one ordinary
  `Analytics.Redis` connection per master. The calls of `Analytics.Redis`
  then route each command, in the caller's process, to the master owning
  its first key's hash slot (see `Analytics.Redis.Cluster.HashSlot`); the
  key's position comes from the server's own `COMMAND` table.

    * A pipeline or `fetch_many/3` whose keys live on several masters is
      split per master, the parts are sent at once and answered together,
      in the caller's order, with each `%Analytics.Redis.Error{}` where its
      command was. Keyless commands in a pipeline (MULTI, EXEC, PING) go
      with the next keyed command (or the previous one), so a transaction
      on keys of one hash tag stays on one master.
    * `MOVED` is followed at once, and the slot map is read again in the
      background, once for a burst of them. `ASK` sends `ASKING` and the
      command to the node importing the slot, in one pipeline. `TRYAGAIN`
      (a multi-key command during a migration) is retried a few times.
      `READONLY` (a write that reached a master turned replica) did not
      run: the caller waits for the map to be read again and sends it to
      the slot's new master.
    * A multi-key command whose keys hash to different slots gets Redis's
      own `CROSSSLOT` error, as `{:error, %Analytics.Redis.Error{}}`.
    * Keyless commands (PING, INFO, ...) go to any master. SCAN, KEYS,
      DBSIZE and FLUSHALL act on that one master only: run them on each of
      `masters/1`.
    * When a master goes away its callers get
      `{:error, %Analytics.Redis.ConnectionError{}}` as with one server; the
      slot map is read again, and once the cluster has promoted a replica
      later calls go to it.

  Options are those of `Analytics.Redis.start_link/1`, given once for every
  node (`:password`, `:username`, `:timeout`, ...), except `:url`, `:host`
  and `:port` (the nodes come from the cluster) and `:database` (a cluster
  has database 0 only). A seed is a URL or a keyword list of connect
  options; a password in a seed URL is used for every node. With `:ssl`,
  nodes are reached at the TLS port `CLUSTER SHARDS` names (`tls-port`).
  Every call goes to a master: reading from replicas is not offered.
  `sync_connect: true` reads the slot map before `start_link/1` returns
  and returns the error when no seed answers; by default the map is read in
  the background (calls made meanwhile wait for the first attempt).

  `fetch_async/3` on a cluster runs its request in a short-lived process of
  its own (it may have to follow redirections), so a caller that dies does
  not cancel it.
  """
  use GenServer

  alias Analytics.Redis
  alias Analytics.Redis.{ConnectionError, Error, Options}
  alias Analytics.Redis.Cluster.{HashSlot, Keys, SlotMap}

  # Redirections followed for one command before its MOVED/ASK is returned.
  @max_hops 5
  @tryagain_ms 25
  @grace_ms 1_000
  # A node has this long to answer CLUSTER SHARDS during a refresh.
  @topology_timeout 2_000
  @retry_ms 1_000
  # Refreshes are at least this far apart: while a master is down, every
  # failing call asks for one.
  @min_refresh_ms 100

  defmodule Routing do
    # What callers read from :persistent_term: everything a call needs to
    # route without messaging the cluster process.
    @moduledoc false
    defstruct [:pid, :version, :slots, :masters, :by_address, :keys, :down]
  end

  @doc false
  # Analytics.Redis.start_link/1 with a :cluster option.
  def start_link(opts) do
    config = config!(opts)
    name_opts = if config.name, do: [name: config.name], else: []

    if config.sync_connect do
      with {:ok, found} <- discover(config.seeds) do
        GenServer.start_link(__MODULE__, {config, found}, name_opts)
      end
    else
      GenServer.start_link(__MODULE__, {config, nil}, name_opts)
    end
  end

  @doc false
  # The options checked, with every seed's password sealed: safe in a
  # child spec (Options.seal/1 comes here for a :cluster option).
  def seal(opts) do
    config = config!(opts)
    name = if config.name, do: [name: config.name], else: []
    name ++ [cluster: config.seeds, sync_connect: config.sync_connect]
  end

  defp config!(opts) do
    {seeds, rest} = Keyword.pop(opts, :cluster)

    for key <- [:url, :host, :port], Keyword.has_key?(rest, key) do
      raise ArgumentError,
            "#{inspect(key)} cannot be given with :cluster: the nodes come from the seed list " <>
              "and the cluster itself"
    end

    unless is_list(seeds) and seeds != [] do
      raise ArgumentError,
            ":cluster needs a non-empty list of seed nodes, such as " <>
              "[\"redis://127.0.0.1:7000\"], got: #{inspect(seeds)}"
    end

    common = Keyword.delete(rest, :name)
    # The name is checked as Analytics.Redis checks it.
    name = Options.connect!(Keyword.take(rest, [:name]))[:name]

    %{
      seeds: Enum.map(seeds, &seed!(&1, common)),
      name: name,
      sync_connect: Keyword.get(rest, :sync_connect, false)
    }
  end

  defp seed!(url, common) when is_binary(url), do: sealed_seed!(Keyword.put(common, :url, url))

  defp seed!([{_, _} | _] = seed, common) do
    if Keyword.has_key?(seed, :name),
      do: raise(ArgumentError, "a cluster seed cannot have a :name")

    sealed_seed!(Keyword.merge(common, seed))
  end

  defp seed!(other, _common) do
    raise ArgumentError,
          "a cluster seed must be a URL such as \"redis://127.0.0.1:7000\" or a keyword list " <>
            "of connect options, got #{Options.kind(other)}"
  end

  defp sealed_seed!(opts) do
    sealed = Options.seal(opts)

    if sealed[:database] != 0 do
      raise ArgumentError,
            "a Redis Cluster has database 0 only, got database: #{inspect(sealed[:database])}"
    end

    Keyword.delete(sealed, :name)
  end

  @doc """
  The connections to the cluster's masters, each an ordinary
  `Analytics.Redis` connection, to run a command on every master (SCAN,
  DBSIZE, FLUSHALL); `[conn]` for a connection to one server.

  ## Example

      for node <- Analytics.Redis.Cluster.masters(conn),
          do: Analytics.Redis.command!(node, ["DBSIZE"])
  """
  @spec masters(Redis.conn()) :: [Redis.conn()]
  def masters(conn) do
    case routing(conn) do
      %Routing{} = routing ->
        case ready(routing, 5_000) do
          {:ok, routing} -> Tuple.to_list(routing.masters)
          {:error, _} -> []
        end

      nil ->
        [conn]
    end
  end

  defp routing(conn) do
    with pid when is_pid(pid) <- GenServer.whereis(conn),
         {:cluster, routing} <- :persistent_term.get({Redis, pid}, nil),
         do: routing,
         else: (_ -> nil)
  end

  defp current(%Routing{pid: pid} = stale) do
    case :persistent_term.get({Redis, pid}, nil) do
      {:cluster, routing} -> routing
      nil -> stale
    end
  end

  # A routing with a slot map: waits for the first attempt to read one.
  defp ready(%Routing{slots: nil, down: nil, pid: pid} = routing, timeout) do
    GenServer.call(pid, :await, wait_ms(timeout))

    case current(routing) do
      %Routing{slots: nil, down: nil} -> {:error, %ConnectionError{reason: :closed}}
      routing -> ready(routing, timeout)
    end
  catch
    :exit, _ -> {:error, %ConnectionError{reason: :closed}}
  end

  defp ready(%Routing{slots: nil, down: down}, _timeout), do: {:error, down}
  defp ready(%Routing{} = routing, _timeout), do: {:ok, routing}

  @doc false
  # The routing of a connection that has one node (Analytics.Redis.Sentinel):
  # every command goes to `conn`; nil while there is none.
  def single_node_routing(pid, version, conn, down) do
    %Routing{
      pid: pid,
      version: version,
      slots: if(conn, do: :one_node),
      masters: {conn},
      by_address: %{},
      keys: %{},
      down: down
    }
  end

  @doc false
  # A call of Analytics.Redis on a cluster, in the caller: the same result
  # as the engine gives for one server.
  def request(%Routing{} = routing, commands, layouts, shape, timeout) do
    deadline = deadline(timeout)

    with {:ok, routing} <- ready(routing, timeout),
         entries = route(routing, commands, layouts, deadline),
         {:ok, pairs} <- dispatch(entries, routing, deadline, 0) do
      values = 1 |> :lists.keysort(pairs) |> Enum.map(&elem(&1, 1))

      case {shape, values} do
        {:single, [%Error{} = error]} -> {:error, error}
        {:single, [value]} -> {:ok, value}
        {:many, values} -> {:ok, values}
      end
    end
  end

  @doc false
  # fetch_async/3 on a cluster: the request runs in a process of its own,
  # which sends the caller the message the engine would.
  def submit(%Routing{} = routing, commands, layouts, shape, timeout) do
    caller = self()
    ref = make_ref()

    spawn(fn ->
      send(caller, {:analytics_redis, ref, request(routing, commands, layouts, shape, timeout)})
    end)

    {:ok, ref}
  end

  defp deadline(:infinity), do: :infinity
  defp deadline(ms), do: System.monotonic_time(:millisecond) + ms

  defp remaining(:infinity), do: :infinity
  defp remaining(deadline), do: max(deadline - System.monotonic_time(:millisecond), 0)

  defp wait_ms(:infinity), do: :infinity
  defp wait_ms(ms), do: ms + @grace_ms

  # [{index, target pid, command, layout, asking?}]: each keyed command to
  # its slot's master; keyless ones with the next keyed command, else the
  # previous one, else any master.
  defp route(%Routing{slots: :one_node, masters: {conn}}, commands, layouts, _deadline),
    do: entries(Enum.map(commands, fn _ -> conn end), commands, layouts, 0)

  defp route(routing, commands, layouts, deadline) do
    targets = Enum.map(commands, &target(routing, &1, deadline))
    # Walking backwards, each keyless command takes the target after it;
    # those after the last keyed command take the last keyed target.
    last = Enum.find(Enum.reverse(targets), & &1) || any_master(routing)
    filled = fill_back(Enum.reverse(targets), last, [])
    entries(filled, commands, layouts, 0)
  end

  defp fill_back([nil | rest], next, acc), do: fill_back(rest, next, [next | acc])
  defp fill_back([target | rest], _next, acc), do: fill_back(rest, target, [target | acc])
  defp fill_back([], _next, acc), do: acc

  defp entries([target | targets], [command | commands], [layout | layouts], i),
    do: [{i, target, command, layout, false} | entries(targets, commands, layouts, i + 1)]

  defp entries([], [], [], _i), do: []

  defp target(routing, command, deadline) do
    case Keys.first_key(routing.keys, command) do
      {:key, key} -> slot_master(routing, HashSlot.slot(key))
      :none -> nil
      :ask_server -> server_key(routing, command, deadline)
    end
  end

  defp slot_master(routing, slot) do
    case elem(routing.slots, slot) do
      nil -> any_master(routing)
      index -> elem(routing.masters, index)
    end
  end

  defp any_master(%Routing{masters: masters}),
    do: elem(masters, :erlang.phash2(self(), tuple_size(masters)))

  # COMMAND GETKEYS, for the few commands whose keys follow a count.
  defp server_key(routing, command, deadline) do
    case node_request(any_master(routing), [["COMMAND", "GETKEYS" | command]], [:tree], deadline) do
      {:ok, [[key | _]]} when is_binary(key) -> slot_master(routing, HashSlot.slot(key))
      _ -> nil
    end
  end

  # Sends each node its part at once, then gathers every answer (all of
  # them, so that no reply is left in the caller's mailbox), then follows
  # the redirections.
  defp dispatch(entries, routing, deadline, hops) do
    sent =
      entries
      |> Enum.group_by(&elem(&1, 1))
      |> Enum.map(fn {target, part} -> {part, submit_part(target, part, deadline)} end)

    answers = Enum.map(sent, fn {part, submitted} -> {part, gather(submitted, deadline)} end)

    case Enum.find(answers, &match?({_, {:error, _}}, &1)) do
      {_part, {:error, error}} ->
        # A node that failed may have been replaced: read the map again.
        refresh(routing)
        {:error, error}

      nil ->
        pairs = Enum.flat_map(answers, fn {part, {:ok, values}} -> answer_pairs(part, values) end)
        redirect(pairs, entries, routing, deadline, hops)
    end
  end

  defp submit_part(nil, _part, _deadline), do: {:error, %ConnectionError{reason: :closed}}

  defp submit_part(target, part, deadline) do
    {commands, layouts} =
      part
      |> Enum.flat_map(fn
        {_i, _target, command, layout, true} -> [{["ASKING"], :tree}, {command, layout}]
        {_i, _target, command, layout, false} -> [{command, layout}]
      end)
      |> Enum.unzip()

    submit_commands(target, commands, layouts, deadline)
  end

  defp gather({:ok, ref}, deadline) do
    receive do
      {:analytics_redis, ^ref, result} -> result
    after
      wait_ms(remaining(deadline)) -> {:error, %ConnectionError{reason: :timeout}}
    end
  end

  defp gather({:error, _} = error, _deadline), do: error

  defp answer_pairs([{i, _, _, _, true} | part], [_asking, value | values]),
    do: [{i, value} | answer_pairs(part, values)]

  defp answer_pairs([{i, _, _, _, false} | part], [value | values]),
    do: [{i, value} | answer_pairs(part, values)]

  defp answer_pairs([], []), do: []

  defp node_request(target, commands, layouts, deadline) do
    gather(submit_commands(target, commands, layouts, deadline), deadline)
  end

  defp submit_commands(target, commands, layouts, deadline) do
    Redis.submit_request(target, commands, layouts, :many, remaining(deadline))
  rescue
    # The node's connection stopped: the map changed under this call.
    ArgumentError -> {:error, %ConnectionError{reason: :closed}}
  end

  defp redirect(pairs, entries, routing, deadline, hops) do
    redirected =
      for {i, %Error{message: message}} <- pairs,
          kind = redirection(message),
          kind != nil,
          do: {i, kind}

    if redirected == [] or hops >= @max_hops do
      {:ok, pairs}
    else
      by_index = Map.new(entries, &{elem(&1, 0), &1})
      if Enum.any?(redirected, &match?({_, {:moved, _}}, &1)), do: refresh(routing)
      if Enum.any?(redirected, &match?({_, :tryagain}, &1)), do: Process.sleep(@tryagain_ms)

      # READONLY: a write to a primary that became a replica. It did not
      # run, so it goes again once the map is read again, if that names
      # another node for it.
      routing =
        if Enum.any?(redirected, &match?({_, :readonly}, &1)),
          do: refresh_now(routing, deadline),
          else: routing

      again =
        for {i, kind} <- redirected,
            {^i, target, command, layout, _asking} = by_index[i],
            entry = again(kind, i, target, command, layout, routing, deadline),
            entry != nil,
            do: entry

      with {:ok, new_pairs} <- dispatch_again(again, current(routing), deadline, hops) do
        replaced = Map.new(new_pairs)
        {:ok, Enum.map(pairs, fn {i, value} -> {i, Map.get(replaced, i, value)} end)}
      end
    end
  end

  defp again({:moved, address}, i, _target, command, layout, routing, deadline),
    do: {i, node_at(routing, address, deadline), command, layout, false}

  defp again({:ask, address}, i, _target, command, layout, routing, deadline),
    do: {i, node_at(routing, address, deadline), command, layout, true}

  defp again(:tryagain, i, target, command, layout, _routing, _deadline),
    do: {i, target, command, layout, false}

  defp again(:readonly, i, target, command, layout, routing, deadline) do
    case route(routing, [command], [layout], deadline) do
      [{0, ^target, _, _, _}] -> nil
      [{0, new_target, _, _, _}] -> {i, new_target, command, layout, false}
    end
  end

  defp redirection("MOVED " <> rest),
    do: with({:ok, a} <- redirect_address(rest), do: {:moved, a})

  defp redirection("ASK " <> rest), do: with({:ok, a} <- redirect_address(rest), do: {:ask, a})

  defp redirection("TRYAGAIN" <> _), do: :tryagain
  defp redirection("READONLY" <> _), do: :readonly
  defp redirection(_message), do: nil

  # "3999 127.0.0.1:6381" (the host may be an IPv6 address: the port
  # follows the last colon).
  defp redirect_address(text) do
    with [_slot, host_port | _] <- String.split(text, " "),
         [port, host] <- host_port |> String.split(":") |> Enum.reverse() |> split_last(),
         {port, ""} <- Integer.parse(port) do
      {:ok, {host, port}}
    else
      _ -> nil
    end
  end

  defp split_last([port | host_parts]) when host_parts != [],
    do: [port, host_parts |> Enum.reverse() |> Enum.join(":")]

  defp split_last(_), do: nil

  # A redirection to a node without a connection yet asks the cluster
  # process for one; nil (the part fails as :closed) if it cannot answer in time.
  defp node_at(routing, address, deadline) do
    case Map.get(routing.by_address, address) do
      nil -> GenServer.call(routing.pid, {:connect, address}, remaining(deadline))
      pid -> pid
    end
  catch
    :exit, _ -> nil
  end

  defp dispatch_again([], _routing, _deadline, _hops), do: {:ok, []}

  defp dispatch_again(again, routing, deadline, hops),
    do: dispatch(again, routing, deadline, hops + 1)

  defp refresh(%Routing{pid: pid, version: version}),
    do: GenServer.cast(pid, {:refresh, version})

  # Reads the map again (unless that happened since `routing`) and waits
  # for it: the routing to use now.
  defp refresh_now(%Routing{pid: pid, version: version} = routing, deadline) do
    GenServer.call(pid, {:refresh_now, version}, remaining(deadline))
    current(routing)
  catch
    :exit, _ -> routing
  end

  # -- The cluster process: owns the node connections and the slot map. --

  @impl true
  def init({config, found}) do
    Process.flag(:trap_exit, true)

    state = %{
      config: config,
      conns: %{},
      template: hd(config.seeds),
      keys: %{},
      map: nil,
      version: 0,
      down: nil,
      awaiting: [],
      retry: nil,
      refreshed_at: System.monotonic_time(:millisecond) - @min_refresh_ms
    }

    case found do
      nil ->
        publish(state)
        {:ok, state, {:continue, :discover}}

      found ->
        {:ok, adopt(state, found)}
    end
  end

  @impl true
  def handle_continue(:discover, state), do: {:noreply, rediscover(state)}

  @impl true
  def handle_call(:await, from, %{map: nil, down: nil} = state),
    do: {:noreply, %{state | awaiting: [from | state.awaiting]}}

  def handle_call(:await, _from, state), do: {:reply, :ok, state}

  def handle_call({:connect, address}, _from, state) do
    state = ensure_conns(state, [address])
    publish(state)
    {:reply, Map.fetch!(state.conns, address), refresh_soon(state)}
  end

  def handle_call({:refresh_now, version}, _from, %{version: version} = state),
    do: {:reply, :ok, rediscover(state)}

  def handle_call({:refresh_now, _older}, _from, state), do: {:reply, :ok, state}

  @impl true
  def handle_cast({:refresh, version}, %{version: version} = state),
    do: {:noreply, refresh_soon(state)}

  def handle_cast({:refresh, _older}, state), do: {:noreply, state}

  @impl true
  def handle_info(:retry, state), do: {:noreply, rediscover(%{state | retry: nil})}

  def handle_info({:EXIT, pid, _reason}, state) do
    case Enum.find(state.conns, &(elem(&1, 1) == pid)) do
      {address, _pid} ->
        state = %{state | conns: Map.delete(state.conns, address)}
        {:noreply, rediscover(state)}

      nil ->
        {:noreply, state}
    end
  end

  @impl true
  def terminate(_reason, state) do
    :persistent_term.erase({Redis, self()})
    for {_address, pid} <- state.conns, do: Redis.stop(pid)
    :ok
  end

  defp refresh_soon(%{retry: nil} = state) do
    since = System.monotonic_time(:millisecond) - state.refreshed_at

    if since >= @min_refresh_ms,
      do: rediscover(state),
      else: %{state | retry: Process.send_after(self(), :retry, @min_refresh_ms - since)}
  end

  # One is coming.
  defp refresh_soon(state), do: state

  # Reads the slot map from a known node (masters first), else a seed.
  defp rediscover(state) do
    state = %{state | refreshed_at: System.monotonic_time(:millisecond)}
    masters = (state.map && state.map.masters) || []

    known =
      Enum.uniq(
        for(address <- masters, pid = state.conns[address], do: {address, pid}) ++
          Enum.sort(state.conns)
      )

    found =
      Enum.find_value(known, fn {{host, _port}, pid} ->
        case topology(pid, host, @topology_timeout, tls?(state.template)) do
          {:ok, map} -> {:ok, {map, state.keys, state.template}}
          {:error, _} -> nil
        end
      end) || discover(state.config.seeds)

    case found do
      {:ok, found} ->
        adopt(state, found)

      # With a map, calls go on with it; without one, they get the error.
      {:error, error} when state.map == nil ->
        state = %{state | down: error, version: state.version + 1}
        publish(state)
        state = answer_awaiting(state)

        if state.retry,
          do: state,
          else: %{state | retry: Process.send_after(self(), :retry, @retry_ms)}

      {:error, _error} ->
        if state.retry,
          do: state,
          else: %{state | retry: Process.send_after(self(), :retry, @retry_ms)}
    end
  end

  # The same map again: nothing to publish (publishing costs every process
  # a look, as :persistent_term updates do).
  defp adopt(%{map: map, down: nil} = state, {map, _keys, _template}), do: state

  defp adopt(state, {map, keys, template}) do
    keys = if keys == %{}, do: state.keys, else: keys

    state = %{
      state
      | map: map,
        keys: keys,
        template: template,
        down: nil,
        version: state.version + 1
    }

    state = state |> ensure_conns(map.masters) |> drop_conns(map.nodes)
    publish(state)
    answer_awaiting(state)
  end

  defp answer_awaiting(state) do
    Enum.each(state.awaiting, &GenServer.reply(&1, :ok))
    %{state | awaiting: []}
  end

  defp ensure_conns(state, addresses) do
    conns =
      Enum.reduce(addresses, state.conns, fn {host, port} = address, conns ->
        if Map.has_key?(conns, address) do
          conns
        else
          opts = Keyword.merge(state.template, host: host, port: port, sync_connect: false)
          {:ok, pid} = Redis.start_link(opts)
          Map.put(conns, address, pid)
        end
      end)

    %{state | conns: conns}
  end

  # Connections to nodes the cluster no longer has; a node that is only a
  # replica now keeps its connection (a caller may still be using it; its
  # answers redirect).
  defp drop_conns(state, nodes) do
    {kept, gone} = Map.split(state.conns, nodes)
    for {_address, pid} <- gone, do: Redis.stop(pid)
    %{state | conns: kept}
  end

  defp publish(state) do
    routing =
      case state.map do
        nil ->
          %Routing{pid: self(), version: state.version, down: state.down, by_address: %{}}

        map ->
          %Routing{
            pid: self(),
            version: state.version,
            slots: SlotMap.slot_tuple(map),
            masters: map.masters |> Enum.map(&Map.fetch!(state.conns, &1)) |> List.to_tuple(),
            by_address: state.conns,
            keys: state.keys,
            down: nil
          }
      end

    :persistent_term.put({Redis, self()}, {:cluster, routing})
  end

  # From the seeds, in order: the first that answers with a slot map.
  # Each seed gets a connection of its own for the question.
  defp discover(seeds) do
    results =
      Enum.reduce_while(seeds, [], fn seed, failures ->
        case ask_seed(seed) do
          {:ok, found} -> {:halt, {:ok, found}}
          {:error, error} -> {:cont, [{seed, error} | failures]}
        end
      end)

    case results do
      {:ok, found} -> {:ok, found}
      failures -> {:error, discovery_error(Enum.reverse(failures))}
    end
  end

  defp ask_seed(seed) do
    case Redis.start_link(Keyword.put(seed, :sync_connect, true)) do
      {:ok, conn} ->
        try do
          with {:ok, map} <- topology(conn, seed[:host], seed[:timeout], tls?(seed)),
               {:ok, keys} <- command_table(conn, seed) do
            {:ok, {map, keys, seed}}
          end
        after
          Redis.stop(conn)
        end

      {:error, _} = error ->
        error
    end
  end

  defp tls?(seed), do: seed[:ssl] not in [nil, false]

  # A TLS cluster names each node's TLS port as tls-port.
  defp topology(conn, host, timeout, tls) do
    case Redis.command(conn, ["CLUSTER", "SHARDS"], timeout: timeout) do
      {:ok, reply} ->
        parsed(SlotMap.from_shards(reply, host, tls), "CLUSTER SHARDS", conn)

      {:error, %Error{message: "ERR unknown subcommand" <> _}} ->
        case Redis.command(conn, ["CLUSTER", "SLOTS"], timeout: timeout) do
          {:ok, reply} -> parsed(SlotMap.from_slots(reply, host), "CLUSTER SLOTS", conn)
          {:error, _} = error -> error
        end

      {:error, %Error{message: message}} ->
        {:error, %Error{message: "not a Redis Cluster node (#{message})"}}

      {:error, _} = error ->
        error
    end
  end

  defp parsed({:ok, map}, _command, _conn), do: {:ok, map}

  defp parsed({:error, why}, command, _conn),
    do: {:error, %Error{message: "its answer to #{command} is not a slot map: #{why}"}}

  defp command_table(conn, seed) do
    case Redis.command(conn, ["COMMAND"], timeout: seed[:timeout]) do
      {:ok, reply} when is_list(reply) -> {:ok, Keys.table(reply)}
      {:ok, _other} -> {:error, %Error{message: "its answer to COMMAND is not a command table"}}
      {:error, _} = error -> error
    end
  end

  # A server's refusal (not a cluster node, a bad answer, WRONGPASS) says
  # more than a refused connection: it comes first.
  defp discovery_error(failures) do
    described = Enum.map(failures, fn {seed, error} -> {seed_address(seed), error} end)

    case Enum.find(described, &match?({_, %Error{}}, &1)) do
      {where, %Error{message: message}} ->
        %Error{message: "cluster seed #{where}: #{message}"}

      nil ->
        reasons =
          Enum.map_join(described, ", ", fn {where, %ConnectionError{} = error} ->
            "#{where} (#{reason_text(error.reason)})"
          end)

        %ConnectionError{reason: "no cluster seed answered: " <> reasons}
    end
  end

  defp reason_text(reason) when is_atom(reason), do: Atom.to_string(reason)
  defp reason_text(reason), do: to_string(reason)

  defp seed_address(seed) do
    host = seed[:host]
    if String.contains?(host, ":"), do: "[#{host}]:#{seed[:port]}", else: "#{host}:#{seed[:port]}"
  end
end
