defmodule Analytics.Redis.ClusterMovesTest do
  # Slots moving under the client: MOVED, ASK, and a resharding while
  # callers read and write. Each test has a cluster of its own, as each
  # moves slots.
  use ExUnit.Case, async: true
  alias Analytics.{Redis, RedisCluster, Series}
  alias Analytics.Redis.Cluster.HashSlot

  setup do
    cluster = RedisCluster.start!()
    {:ok, conn} = Redis.start_link(cluster: RedisCluster.urls(cluster), sync_connect: true)
    conns = RedisCluster.node_conns(cluster)
    masters = cluster |> RedisCluster.slot_ranges() |> Enum.map(&elem(&1, 2)) |> Enum.uniq()
    %{cluster: cluster, conn: conn, conns: conns, masters: masters}
  end

  # How often each node answered `stat` (an INFO line such as
  # "errorstat_MOVED" or "cmdstat_cluster|shards"), summed over the nodes.
  defp stat_count(conns, section, stat) do
    conns
    |> Map.values()
    |> Enum.map(fn node ->
      info = Redis.command!(node, ["INFO", section])

      case Regex.run(~r/^#{Regex.escape(stat)}:(?:count|calls)=(\d+)/m, info) do
        [_, n] -> String.to_integer(n)
        nil -> 0
      end
    end)
    |> Enum.sum()
  end

  defp keys_on(cluster, master, prefix, count) do
    ranges = RedisCluster.slot_ranges(cluster)

    Stream.iterate(0, &(&1 + 1))
    |> Stream.map(&"#{prefix}#{&1}")
    |> Stream.filter(fn key ->
      slot = HashSlot.slot(key)
      Enum.any?(ranges, fn {a, b, port} -> port == master and slot in a..b end)
    end)
    |> Enum.take(count)
  end

  test "MOVED: a pipeline of 300 moved keys follows the redirections and reads the map once",
       %{cluster: cluster, conn: conn, conns: conns, masters: [a, b, _]} do
    keys = keys_on(cluster, a, "moved:", 300)

    assert Redis.pipeline!(conn, for(key <- keys, do: ["SET", key, key])) ==
             List.duplicate("OK", 300)

    slots = keys |> Enum.map(&HashSlot.slot/1) |> Enum.uniq()

    # The slots move behind the client's back.
    for slot <- slots, do: RedisCluster.move_slot!(conns, slot, a, b)
    refreshes = stat_count(conns, "commandstats", "cmdstat_cluster|shards")
    moved = stat_count(conns, "errorstats", "errorstat_MOVED")

    assert Redis.pipeline!(conn, for(key <- keys, do: ["GET", key])) == keys
    assert stat_count(conns, "errorstats", "errorstat_MOVED") - moved == 300
    # One read of the map for the whole burst.
    assert Analytics.Eventually.wait_until(fn ->
             stat_count(conns, "commandstats", "cmdstat_cluster|shards") - refreshes == 1
           end)

    # The server has answered CLUSTER SHARDS; the cluster's process reads
    # the answer and publishes the map before it handles this call.
    _ = :sys.get_state(conn)

    # With the new map, the keys go straight to their new master.
    moved = stat_count(conns, "errorstats", "errorstat_MOVED")
    assert Redis.pipeline!(conn, for(key <- keys, do: ["GET", key])) == keys
    assert stat_count(conns, "errorstats", "errorstat_MOVED") == moved
  end

  test "ASK: during a migration, keys already moved are asked of the importing node",
       %{cluster: cluster, conn: conn, conns: conns, masters: [a, b, _]} do
    keys = for i <- 1..40, do: "{asked}:#{i}"
    [slot] = keys |> Enum.map(&HashSlot.slot/1) |> Enum.uniq()
    from = RedisCluster.master_port_of(cluster, slot)
    to = if from == a, do: b, else: a

    for {key, i} <- Enum.with_index(keys, 1),
        do: Redis.command!(conn, ["RPUSH", key, i, i + 0.5])

    RedisCluster.begin_migration!(conns, slot, from, to)
    migrated = RedisCluster.migrate_keys!(conns, slot, from, to, 15)
    assert length(migrated) == 15
    # The source answers ASK for a migrated key.
    assert {:error, %Redis.Error{message: "ASK " <> _}} =
             Redis.command(conns[from], ["LRANGE", hd(migrated), 0, -1])

    asks = stat_count(conns, "errorstats", "errorstat_ASK")

    expected = for i <- 1..40, do: [i * 1.0, i + 0.5]

    assert {:ok, results} =
             Redis.fetch_many(conn, for(key <- keys, do: {:lrange, key, 0, -1, :f64}))

    assert Enum.map(results, &Series.to_list/1) == expected

    assert Redis.pipeline!(conn, for(key <- keys, do: ["LLEN", key])) == List.duplicate(2, 40)
    assert stat_count(conns, "errorstats", "errorstat_ASK") - asks == 30

    for key <- keys do
      assert {:ok, s} = Redis.fetch(conn, {:lrange, key, 0, -1, :f64})
      assert length(Series.to_list(s)) == 2
    end

    # A new key of the slot is created on the importing node (ASK again).
    assert Redis.command(conn, ["SET", "{asked}:new", "1"]) == {:ok, "OK"}
    assert Redis.pipeline(conns[to], [["ASKING"], ["EXISTS", "{asked}:new"]]) == {:ok, ["OK", 1]}

    RedisCluster.finish_migration!(conns, slot, from, to)
    assert Redis.command(conn, ["GET", "{asked}:new"]) == {:ok, "1"}
    assert Redis.command(conns[to], ["DBSIZE"]) |> elem(1) >= 41
  end

  test "a resharding while 6 processes read and write: every answer right",
       %{cluster: cluster, conn: conn, conns: conns, masters: [a, b, _]} do
    test_pid = self()

    workers =
      for w <- 1..6 do
        spawn_link(fn -> worker(conn, w, test_pid) end)
      end

    # Every worker is under way before the slots move.
    for _ <- workers, do: assert_receive({:running, _}, 10_000)

    # Every slot of a's that holds a worker's key, and 100 more, move to b.
    ranges = RedisCluster.slot_ranges(cluster)
    a_slots = for {first, last, ^a} <- ranges, slot <- first..last, do: slot
    worker_keys = for w <- 1..6, j <- 1..40, suffix <- ["n", "l"], do: "w#{w}:#{j}:#{suffix}"
    key_slots = MapSet.new(worker_keys, &HashSlot.slot/1)
    busy = Enum.filter(a_slots, &MapSet.member?(key_slots, &1))
    quiet = a_slots |> Enum.reject(&MapSet.member?(key_slots, &1)) |> Enum.take(100)
    assert length(busy) > 50

    for slot <- Enum.shuffle(busy ++ quiet), do: RedisCluster.move_slot!(conns, slot, a, b)

    # The workers go on after the last move, then stop and report.
    Process.sleep(300)
    for pid <- workers, do: send(pid, :stop)

    iterations =
      for _ <- workers do
        assert_receive {:done, w, result}, 20_000
        assert {:ok, n} = result, "worker #{w}: #{inspect(result)}"
        n
      end

    assert Enum.all?(iterations, &(&1 > 2))

    # Every key of the moved slots is on b now, none left on a.
    moved_keys = Enum.count(worker_keys, &(HashSlot.slot(&1) in busy))

    count = fn port ->
      Enum.sum(for s <- busy, do: Redis.command!(conns[port], ["CLUSTER", "COUNTKEYSINSLOT", s]))
    end

    assert {count.(a), count.(b)} == {0, moved_keys}
  end

  # Iteration n: INCR each of its 40 counters and RPUSH n on its 40 lists in
  # one pipeline (answers n and n), then read the lists back with
  # fetch_many (each 1..n). Reports the first wrong answer.
  defp worker(conn, w, test_pid) do
    counters = for j <- 1..40, do: "w#{w}:#{j}:n"
    lists = for j <- 1..40, do: "w#{w}:#{j}:l"
    send(test_pid, {:running, w})
    result = loop(conn, counters, lists, 1)
    send(test_pid, {:done, w, result})
  end

  defp loop(conn, counters, lists, n) do
    receive do
      :stop -> {:ok, n - 1}
    after
      0 ->
        commands = for(k <- counters, do: ["INCR", k]) ++ for(l <- lists, do: ["RPUSH", l, n])
        expected = List.duplicate(n, 80)
        specs = for l <- lists, do: {:lrange, l, 0, -1, :i64}
        whole = Enum.to_list(1..n)

        with {:pipeline, {:ok, ^expected}} <- {:pipeline, Redis.pipeline(conn, commands)},
             {:fetch, {:ok, series}} <- {:fetch, Redis.fetch_many(conn, specs)},
             {:lists, true} <-
               {:lists,
                Enum.all?(series, &(is_struct(&1, Series) and Series.to_list(&1) == whole))} do
          loop(conn, counters, lists, n + 1)
        else
          wrong -> {:wrong, n, wrong}
        end
    end
  end
end
