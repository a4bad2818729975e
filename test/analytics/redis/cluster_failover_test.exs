defmodule Analytics.Redis.ClusterFailoverTest do
  # A cluster with a replica per master: a manual failover, then a killed
  # master, while callers keep writing and reading.
  use ExUnit.Case, async: true
  alias Analytics.{Eventually, Redis, RedisCluster}
  alias Analytics.Redis.{Cluster, ConnectionError, Error}
  alias Analytics.Redis.Cluster.HashSlot

  @moduletag timeout: 120_000

  setup do
    cluster = RedisCluster.start!(masters: 3, replicas: 1)
    {:ok, conn} = Redis.start_link(cluster: RedisCluster.urls(cluster), sync_connect: true)
    %{cluster: cluster, conn: conn}
  end

  # The port of the replica of the master at `master`.
  defp replica_of(cluster, master) do
    Enum.find_value(cluster.nodes, fn node ->
      case RedisCluster.cli!(node.port, ["ROLE"]) |> String.split("\n") do
        ["slave", _ip, port | _] -> if String.to_integer(port) == master, do: node.port
        _ -> nil
      end
    end)
  end

  defp start_workers(conn, count) do
    test_pid = self()
    workers = for w <- 1..count, do: spawn_link(fn -> worker(conn, w, test_pid) end)
    for _ <- workers, do: assert_receive({:running, _}, 10_000)
    workers
  end

  defp stop_workers(workers) do
    for pid <- workers, do: send(pid, :stop)

    for _ <- workers do
      assert_receive {:done, w, ok, errors, wrong}, 30_000
      assert wrong == [], "worker #{w} got wrong answers: #{inspect(wrong)}"
      {ok, errors}
    end
  end

  # Each round writes a fresh value to each of 30 keys and reads it back in
  # the same pipeline (one master answers both, so they must agree whatever
  # a failover lost). Errors are counted; a wrong value is kept to fail the test.
  defp worker(conn, w, test_pid) do
    keys = for j <- 1..30, do: "{fo#{w}:#{j}}"
    send(test_pid, {:running, w})

    worker_loop(conn, keys, 1, 0, 0, [])
    |> then(fn {ok, errors, wrong} -> send(test_pid, {:done, w, ok, errors, wrong}) end)
  end

  defp worker_loop(conn, keys, n, ok, errors, wrong) do
    receive do
      :stop -> {ok, errors, wrong}
    after
      0 ->
        commands = Enum.flat_map(keys, &[["SET", &1, n], ["GET", &1]])

        case Redis.pipeline(conn, commands, timeout: 2_000) do
          {:ok, values} ->
            pairs = Enum.chunk_every(values, 2)
            good = Enum.count(pairs, &(&1 == ["OK", "#{n}"]))
            failed = Enum.count(pairs, &failure?/1)
            bad = Enum.reject(pairs, &(&1 == ["OK", "#{n}"] or failure?(&1)))
            worker_loop(conn, keys, n + 1, ok + good, errors + failed, Enum.take(bad ++ wrong, 5))

          {:error, %ConnectionError{}} ->
            Process.sleep(20)
            worker_loop(conn, keys, n + 1, ok, errors + 1, wrong)
        end
    end
  end

  # What a failover may answer in the meantime: the cluster is down, or the
  # node is loading or read-only while it changes role.
  defp failure?([%Error{message: message} | _]),
    do: String.starts_with?(message, ["CLUSTERDOWN", "LOADING", "READONLY", "TRYAGAIN", "MOVED"])

  defp failure?(_pair), do: false

  test "a manual failover and a killed master: callers lose nothing and find the new master",
       %{cluster: cluster, conn: conn} do
    workers = start_workers(conn, 4)

    # CLUSTER FAILOVER: the replica takes over with the master's consent.
    slot = HashSlot.slot("fo1:1")
    old = RedisCluster.master_port_of(cluster, slot)
    replica = replica_of(cluster, old)
    assert RedisCluster.cli!(replica, ["CLUSTER", "FAILOVER"]) == "OK"

    assert Eventually.wait_until(
             fn -> RedisCluster.master_port_of(cluster, slot) == replica end,
             20_000
           )

    RedisCluster.wait_settled!(cluster)
    Process.sleep(300)
    results = stop_workers(workers)
    assert Enum.all?(results, fn {ok, _errors} -> ok > 0 end)

    # The client now sends the slot's commands to the new master.
    assert Enum.any?(Cluster.masters(conn), fn node ->
             Redis.command!(node, ["CLUSTER", "MYID"]) == RedisCluster.node_id(replica)
           end)

    # A killed master: its replica is promoted after the node timeout.
    for node <- Cluster.masters(conn), do: Redis.command(node, ["WAIT", "1", "2000"])
    Redis.command!(conn, ["SET", "{fo1:1}:kept", "yes"])
    for node <- Cluster.masters(conn), do: Redis.command(node, ["WAIT", "1", "2000"])

    workers = start_workers(conn, 4)
    RedisCluster.kill!(cluster, replica)
    promoted = old

    assert Eventually.wait_until(
             fn -> Redis.command(conn, ["GET", "{fo1:1}:kept"]) == {:ok, "yes"} end,
             30_000
           )

    assert RedisCluster.master_port_of(cluster, slot) == promoted
    Process.sleep(500)
    results = stop_workers(workers)

    # Every worker had answers refused while the master was gone, and
    # succeeded again after.
    assert Enum.all?(results, fn {ok, _errors} -> ok > 0 end)
    assert Enum.sum(Enum.map(results, &elem(&1, 1))) > 0

    # Everything answers again, across every master.
    keys = for i <- 1..100, do: "after:#{i}"
    assert Redis.pipeline!(conn, for(k <- keys, do: ["SET", k, k])) == List.duplicate("OK", 100)
    assert Redis.pipeline!(conn, for(k <- keys, do: ["GET", k])) == keys
  end
end
