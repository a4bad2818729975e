defmodule Analytics.RedisCluster do
  @moduledoc """
  A real Redis Cluster for tests: `masters` redis-servers (and `replicas`
  per master) with `--cluster-enabled yes`, joined by
  `redis-cli --cluster create`, on loopback ports whose cluster bus port
  (port + 10000) is free too. Every node is killed when the test ends.
  """
  alias Analytics.{Eventually, RedisServer}

  defstruct [:nodes, :dir]

  @doc """
  Starts a cluster and returns once every node reports `cluster_state:ok`
  and knows every other node. Options: `:masters` (default 3), `:replicas`
  per master (default 0), `:args` for every redis-server.
  """
  def start!(opts \\ []) do
    masters = Keyword.get(opts, :masters, 3)
    replicas = Keyword.get(opts, :replicas, 0)
    count = masters * (1 + replicas)
    dir = Path.join(System.tmp_dir!(), "analytics-cluster-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    ExUnit.Callbacks.on_exit(fn -> File.rm_rf(dir) end)

    nodes =
      for port <- cluster_ports(count) do
        RedisServer.start_at!(port, node_args(dir, port) ++ Keyword.get(opts, :args, []))
      end

    addresses = Enum.map(nodes, &"127.0.0.1:#{&1.port}")

    {out, status} =
      System.cmd(
        "redis-cli",
        ["--cluster", "create" | addresses] ++
          ["--cluster-replicas", Integer.to_string(replicas), "--cluster-yes"],
        stderr_to_stdout: true
      )

    if status != 0, do: raise("redis-cli --cluster create failed:\n#{out}")
    cluster = %__MODULE__{nodes: nodes, dir: dir}
    wait_settled!(cluster)
    cluster
  end

  @doc "The seed URLs of every node."
  def urls(%__MODULE__{nodes: nodes}), do: Enum.map(nodes, &RedisServer.url/1)

  @doc "Runs redis-cli against the node at `port`; its output, trimmed."
  def cli!(port, args) do
    {out, 0} = System.cmd("redis-cli", ["-p", Integer.to_string(port) | args])
    String.trim(out)
  end

  @doc "The node (a `%RedisServer{}`) at `port`."
  def node_at(%__MODULE__{nodes: nodes}, port), do: Enum.find(nodes, &(&1.port == port))

  @doc "The port of the master serving `slot`, read from the first live node."
  def master_port_of(%__MODULE__{} = cluster, slot) do
    {_first, _last, port} = Enum.find(slot_ranges(cluster), fn {a, b, _} -> slot in a..b end)
    port
  end

  @doc "`{first, last, master_port}` for every slot range, from CLUSTER SLOTS of a live node."
  def slot_ranges(%__MODULE__{} = cluster) do
    {:ok, conn} = Analytics.Redis.start_link(url: live_url(cluster), sync_connect: true)

    try do
      {:ok, slots} = Analytics.Redis.command(conn, ["CLUSTER", "SLOTS"])
      for [first, last, [_ip, port | _] | _] <- slots, do: {first, last, port}
    after
      Analytics.Redis.stop(conn)
    end
  end

  @doc "The node id of the node at `port`."
  def node_id(port), do: cli!(port, ["CLUSTER", "MYID"])

  @doc """
  Waits until every live node reports `cluster_state:ok` and agrees on
  which master serves each slot range.
  """
  def wait_settled!(%__MODULE__{} = cluster, timeout \\ 20_000) do
    settled? = fn ->
      views =
        for node <- live_nodes(cluster) do
          {info, _} = System.cmd("redis-cli", ["-p", "#{node.port}", "CLUSTER", "INFO"])
          {slots, _} = System.cmd("redis-cli", ["-p", "#{node.port}", "CLUSTER", "SLOTS"])
          {String.contains?(info, "cluster_state:ok"), slots}
        end

      Enum.all?(views, &elem(&1, 0)) and length(Enum.uniq_by(views, &elem(&1, 1))) == 1
    end

    Eventually.wait_until(settled?, timeout) || raise("the cluster did not settle")
    cluster
  end

  @doc """
  Direct connections to every node, `%{port => conn}`, for the slot
  migration helpers below (linked to the caller).
  """
  def node_conns(%__MODULE__{} = cluster) do
    Map.new(live_nodes(cluster), fn node ->
      {:ok, conn} = Analytics.Redis.start_link(port: node.port, sync_connect: true)
      {node.port, conn}
    end)
  end

  @doc """
  Starts moving `slot` from the master at `from` to the one at `to`
  (CLUSTER SETSLOT IMPORTING on `to`, then MIGRATING on `from`): from now on
  `from` answers ASK for the slot's keys it no longer holds.
  """
  def begin_migration!(conns, slot, from, to) do
    "OK" = cmd!(conns[to], ["CLUSTER", "SETSLOT", slot, "IMPORTING", id!(conns[from])])
    "OK" = cmd!(conns[from], ["CLUSTER", "SETSLOT", slot, "MIGRATING", id!(conns[to])])
    :ok
  end

  @doc "MIGRATEs up to `count` of `slot`'s keys from `from` to `to`; the keys moved."
  def migrate_keys!(conns, slot, from, to, count) do
    case cmd!(conns[from], ["CLUSTER", "GETKEYSINSLOT", slot, count]) do
      [] ->
        []

      keys ->
        "OK" = cmd!(conns[from], ["MIGRATE", "127.0.0.1", to, "", 0, 5_000, "KEYS" | keys])

        keys
    end
  end

  @doc """
  Ends a slot's move: every key migrated, then CLUSTER SETSLOT NODE on the
  importing node, the migrating one and every other master, so that
  every node answers MOVED for it at once.
  """
  def finish_migration!(conns, slot, from, to) do
    drain(conns, slot, from, to)
    to_id = id!(conns[to])
    others = conns |> Map.drop([from, to]) |> Map.values()

    for conn <- [conns[to], conns[from] | others] do
      "OK" = cmd!(conn, ["CLUSTER", "SETSLOT", slot, "NODE", to_id])
    end

    :ok
  end

  @doc "Moves `slot` whole from the master at `from` to the one at `to`."
  def move_slot!(conns, slot, from, to) do
    begin_migration!(conns, slot, from, to)
    finish_migration!(conns, slot, from, to)
  end

  defp drain(conns, slot, from, to) do
    if migrate_keys!(conns, slot, from, to, 1_000) != [], do: drain(conns, slot, from, to)
  end

  defp id!(conn), do: cmd!(conn, ["CLUSTER", "MYID"])

  defp cmd!(conn, args), do: Analytics.Redis.command!(conn, args)

  @doc "Kills the node at `port` (SIGKILL) and marks it gone."
  def kill!(%__MODULE__{} = cluster, port) do
    RedisServer.stop(node_at(cluster, port))
    File.write!(Path.join(cluster.dir, "dead-#{port}"), "")
    cluster
  end

  defp live_nodes(cluster),
    do: Enum.reject(cluster.nodes, &File.exists?(Path.join(cluster.dir, "dead-#{&1.port}")))

  defp live_url(cluster), do: cluster |> live_nodes() |> hd() |> RedisServer.url()

  defp node_args(dir, port) do
    [
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      Path.join(dir, "nodes-#{port}.conf"),
      "--cluster-node-timeout",
      "1000",
      "--dir",
      dir
    ]
  end

  # Ports in 20000..45535 whose cluster bus port is free too: tried by
  # listening on both.
  defp cluster_ports(count), do: cluster_ports(count, [])

  defp cluster_ports(0, ports), do: ports

  defp cluster_ports(count, ports) do
    port = 20_000 + :rand.uniform(25_535)

    if port not in ports and free?(port) and free?(port + 10_000),
      do: cluster_ports(count - 1, [port | ports]),
      else: cluster_ports(count, ports)
  end

  defp free?(port) do
    case :gen_tcp.listen(port, ip: {127, 0, 0, 1}, reuseaddr: false) do
      {:ok, socket} ->
        :gen_tcp.close(socket)
        true

      {:error, _} ->
        false
    end
  end
end
