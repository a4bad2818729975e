defmodule Analytics.Redis.ClusterTest do
  # One 3-master cluster for the module; each test uses keys of its own.
  use ExUnit.Case, async: true
  alias Analytics.{Redis, RedisCluster, RedisServer, Series}
  alias Analytics.Redis.{Cluster, ConnectionError, Error}
  alias Analytics.Redis.Cluster.HashSlot

  doctest HashSlot

  setup_all do
    cluster = RedisCluster.start!()
    {:ok, conn} = Redis.start_link(cluster: RedisCluster.urls(cluster), sync_connect: true)
    %{cluster: cluster, conn: conn}
  end

  # A direct connection to the master at `port` (linked: it ends with the test).
  defp node_conn(port) do
    {:ok, conn} = Redis.start_link(port: port, sync_connect: true)
    conn
  end

  test "hash slots: the cluster spec's vectors and hash tags" do
    assert HashSlot.crc16("123456789") == 0x31C3
    assert HashSlot.slot("foo") == 12_182
    assert HashSlot.slot("{user1000}.following") == HashSlot.slot("user1000")
    # The first { and the first } after it; an empty tag hashes the whole key.
    assert HashSlot.slot("foo{{bar}}zap") == HashSlot.slot("{bar")
    assert HashSlot.slot("foo{bar}{zap}") == HashSlot.slot("bar")
    refute HashSlot.slot("foo{}{bar}") == HashSlot.slot("bar")
  end

  test "the slots agree with the server's CLUSTER KEYSLOT", %{conn: conn} do
    keys = [
      "",
      "a",
      "{",
      "}{",
      "{}",
      "{a}b",
      "x{y}",
      "\r\n\0é",
      "k:" <> String.duplicate("z", 300)
    ]

    for key <- keys do
      assert Redis.command(conn, ["CLUSTER", "KEYSLOT", key]) == {:ok, HashSlot.slot(key)}
    end
  end

  test "each command goes to the master owning its key's slot", %{cluster: cluster, conn: conn} do
    keys = for i <- 1..300, do: "route:#{i}"
    for key <- keys, do: assert(Redis.command(conn, ["SET", key, key]) == {:ok, "OK"})
    for key <- keys, do: assert(Redis.command(conn, ["GET", key]) == {:ok, key})

    # Each key is on its slot's master, and nowhere else.
    ranges = RedisCluster.slot_ranges(cluster)
    assert length(Enum.uniq_by(ranges, &elem(&1, 2))) == 3

    for {_first, _last, port} <- Enum.uniq_by(ranges, &elem(&1, 2)) do
      direct = node_conn(port)
      {:ok, found} = Redis.command(direct, ["KEYS", "route:*"])

      expected =
        Enum.filter(keys, fn key ->
          slot = HashSlot.slot(key)
          Enum.any?(ranges, fn {a, b, p} -> p == port and slot in a..b end)
        end)

      assert Enum.sort(found) == Enum.sort(expected)
      assert found != []
    end
  end

  test "a pipeline across masters answers in the caller's order, errors in place",
       %{conn: conn} do
    commands =
      for i <- 1..200 do
        case rem(i, 4) do
          0 -> ["SET", "pipe:#{i}", i]
          1 -> ["INCRBY", "pipe:n#{i}", i]
          2 -> ["HSET", "pipe:h#{i}", "f", "v"]
          3 -> ["INCR", "pipe:h#{i - 1}"]
        end
      end

    assert {:ok, values} = Redis.pipeline(conn, commands)

    for {value, i} <- Enum.with_index(values, 1) do
      case rem(i, 4) do
        0 -> assert value == "OK"
        1 -> assert value == i
        2 -> assert value == 1
        3 -> assert %Error{message: "WRONGTYPE" <> _} = value
      end
    end

    gets = for i <- 1..200, rem(i, 4) == 0, do: ["GET", "pipe:#{i}"]
    assert Redis.pipeline!(conn, gets) == for(i <- 1..200, rem(i, 4) == 0, do: "#{i}")
  end

  test "fetch_many across masters: series in order, errors where they were", %{conn: conn} do
    keys = for i <- 1..120, do: "fm:#{i}"

    Redis.pipeline!(
      conn,
      for({key, i} <- Enum.with_index(keys, 1), do: ["RPUSH", key, i, i * 2]) ++
        [["SET", "fm:text", "not a list"]]
    )

    specs =
      for(key <- keys, do: {:lrange, key, 0, -1, :i64})
      |> List.insert_at(60, {:lrange, "fm:text", 0, -1, :i64})

    assert {:ok, results} = Redis.fetch_many(conn, specs)
    assert length(results) == 121
    {before, [error | later]} = Enum.split(results, 60)
    assert %Error{message: "WRONGTYPE" <> _} = error
    assert error.message =~ "fm:text"

    for {series, i} <- Enum.with_index(before ++ later, 1),
        do: assert(Series.to_list(series) == [i, i * 2])

    assert {:ok, one} = Redis.fetch(conn, {:lrange, "fm:7", 0, -1, :f64})
    assert Series.to_list(one) == [7.0, 14.0]

    assert {:ok, ref} = Redis.fetch_async(conn, {:lrange, "fm:99", 0, -1, :i64})
    assert_receive {:analytics_redis, ^ref, {:ok, series}}, 5_000
    assert Series.to_list(series) == [99, 198]
  end

  test "hash tags keep multi-key commands on one slot; CROSSSLOT otherwise", %{conn: conn} do
    assert Redis.command(conn, ["MSET", "{tag}:a", "1", "{tag}:b", "2"]) == {:ok, "OK"}
    assert Redis.command(conn, ["MGET", "{tag}:a", "{tag}:b"]) == {:ok, ["1", "2"]}
    assert {:ok, mget} = Redis.fetch(conn, {:mget, ["{tag}:a", "{tag}:b"], :i64})
    assert Series.to_list(mget) == [1, 2]

    # "a" and "b" hash to different slots (15495 and 3300).
    assert {:error, %Error{message: "CROSSSLOT" <> _}} =
             Redis.command(conn, ["MSET", "a", "1", "b", "2"])

    assert {:error, %Error{message: "CROSSSLOT" <> _ = message}} =
             Redis.fetch(conn, {:mget, ["a", "b"], :f64})

    assert message =~ "fetching {:mget"

    assert {:ok, ["OK", %Error{message: "CROSSSLOT" <> _}, "1"]} =
             Redis.pipeline(conn, [
               ["SET", "{tag}:c", "3"],
               ["MGET", "a", "b"],
               ["GET", "{tag}:a"]
             ])

    # A transaction on one hash tag: MULTI and EXEC go with its keys.
    assert {:ok, ["OK", "QUEUED", "QUEUED", ["OK", 4]]} =
             Redis.pipeline(conn, [
               ["MULTI"],
               ["SET", "{tx}:a", "3"],
               ["INCR", "{tx}:a"],
               ["EXEC"]
             ])
  end

  test "keyless commands go to any master; scripts and counted keys route by key",
       %{conn: conn} do
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
    assert {:ok, "# Server" <> _} = Redis.command(conn, ["INFO", "server"])

    for i <- 1..20 do
      key = "script:#{i}"

      assert Redis.command(conn, ["EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", 1, key, i]) ==
               {:ok, "OK"}

      assert Redis.command(conn, ["ZADD", key <> ":z", i, "m"]) == {:ok, 1}
      # ZUNION's keys follow a count: the server names them (COMMAND GETKEYS).
      assert Redis.command(conn, ["ZUNION", 1, key <> ":z"]) == {:ok, ["m"]}
      # A container command's key: OBJECT ENCODING key.
      assert Redis.command(conn, ["object", "encoding", key]) == {:ok, "int"}
      assert Redis.command(conn, ["get", key]) == {:ok, "#{i}"}
    end
  end

  test "masters/1 gives a connection per master; one server gives itself", %{conn: conn} do
    masters = Cluster.masters(conn)
    assert length(masters) == 3
    assert Enum.all?(masters, &(Redis.command(&1, ["ROLE"]) |> elem(1) |> hd() == "master"))

    server = RedisServer.start!()
    {:ok, single} = Redis.start_link(url: RedisServer.url(server))
    assert Cluster.masters(single) == [single]
  end

  test "Analytics.Cache over a cluster: keys and scan patterns on every master",
       %{cluster: cluster} do
    {:ok, seed} = Redis.start_link(cluster: RedisCluster.urls(cluster), sync_connect: true)
    packed = fn values -> for v <- values, into: <<>>, do: <<v::float-native-64>> end

    for i <- 1..60 do
      Redis.command!(seed, ["SET", "cache:m:#{i}", packed.([i * 1.0, i * 2.0])])
    end

    Redis.command!(seed, ["SET", "cache:single", packed.([0.5])])

    {:ok, _} =
      Analytics.Cache.start_link(
        name: ClusterCache,
        redis: [cluster: [hd(RedisCluster.urls(cluster))]],
        keys: [{"cache:single", :f64}],
        scan: [{"cache:m:*", :f64}],
        await: true
      )

    keys = Analytics.Cache.keys(ClusterCache)
    assert length(keys) == 61

    for i <- 1..60 do
      assert {:ok, s} = Analytics.Cache.get(ClusterCache, "cache:m:#{i}")
      assert Series.to_list(s) == [i * 1.0, i * 2.0]
    end

    assert %{state: :fresh, entries: 61} = Analytics.Cache.status(ClusterCache)

    # The scan finds keys on every master: each holds some of them.
    counts =
      for node <- Cluster.masters(seed) do
        {:ok, [_cursor, found]} =
          Redis.command(node, ["SCAN", "0", "MATCH", "cache:m:*", "COUNT", "1000"])

        length(found)
      end

    assert Enum.all?(counts, &(&1 > 0)) and Enum.sum(counts) == 60
  end

  test "a TLS cluster's nodes are reached at their tls-port" do
    node = fn port, tls_port, role ->
      ["id", "x", "port", port, "tls-port", tls_port, "ip", "10.0.0.1", "endpoint", "?"] ++
        ["role", role, "health", "online"]
    end

    reply = [
      [
        "slots",
        [0, 8191],
        "nodes",
        [node.(7000, 17000, "master"), node.(7001, 17001, "replica")]
      ],
      ["slots", [8192, 16383], "nodes", [node.(7002, 17002, "master")]]
    ]

    assert {:ok, %{masters: [{"10.0.0.1", 17000}, {"10.0.0.1", 17002}]}} =
             Analytics.Redis.Cluster.SlotMap.from_shards(reply, "seed", true)

    assert {:ok, %{masters: [{"10.0.0.1", 7000}, {"10.0.0.1", 7002}], nodes: nodes}} =
             Analytics.Redis.Cluster.SlotMap.from_shards(reply, "seed", false)

    assert {"10.0.0.1", 7001} in nodes
    overlapping = [hd(reply), hd(reply)]

    assert {:error, "its slot ranges are missing, overlap or fall outside 0..16383"} =
             Analytics.Redis.Cluster.SlotMap.from_shards(overlapping, "seed")
  end

  test "a supervised cluster connection", %{cluster: cluster} do
    {:ok, sup} =
      Supervisor.start_link(
        [{Redis, cluster: RedisCluster.urls(cluster), name: SupervisedCluster}],
        strategy: :one_for_one
      )

    assert Redis.command(SupervisedCluster, ["SET", "sup:k", "1"]) == {:ok, "OK"}
    assert Redis.command(SupervisedCluster, ["GET", "sup:k"]) == {:ok, "1"}
    Supervisor.stop(sup)
  end

  describe "bad input" do
    test "an empty or malformed seed list, and options a cluster cannot take" do
      assert_raise ArgumentError, ~r/:cluster needs a non-empty list of seed nodes/, fn ->
        Redis.start_link(cluster: [])
      end

      assert_raise ArgumentError, ~r/:cluster needs a non-empty list/, fn ->
        Redis.start_link(cluster: "redis://127.0.0.1:7000")
      end

      assert_raise ArgumentError, ~r/a cluster seed must be a URL/, fn ->
        Redis.start_link(cluster: [7000])
      end

      assert_raise ArgumentError, ~r/:url cannot be given with :cluster/, fn ->
        Redis.start_link(cluster: ["redis://127.0.0.1:7000"], url: "redis://127.0.0.1:7000")
      end

      assert_raise ArgumentError, ~r/database 0 only/, fn ->
        Redis.start_link(cluster: ["redis://127.0.0.1:7000/2"])
      end

      assert_raise ArgumentError, ~r/unknown option :colour/, fn ->
        Redis.start_link(cluster: ["redis://127.0.0.1:7000"], colour: :red)
      end

      assert_raise ArgumentError, ~r/port in a URL/, fn ->
        Redis.start_link(cluster: ["redis://127.0.0.1:70000"])
      end
    end

    test "seeds that are all down: a ConnectionError naming each" do
      ports = [RedisServer.free_port(), RedisServer.free_port()]

      assert {:error, %ConnectionError{} = error} =
               Redis.start_link(
                 cluster: Enum.map(ports, &"redis://127.0.0.1:#{&1}"),
                 sync_connect: true
               )

      message = Exception.message(error)
      assert message =~ "no cluster seed answered"
      for port <- ports, do: assert(message =~ "127.0.0.1:#{port} (econnrefused)")
    end

    test "in the background, calls fail with the same error while no seed answers" do
      port = RedisServer.free_port()
      {:ok, conn} = Redis.start_link(cluster: ["redis://127.0.0.1:#{port}"])
      assert {:error, %ConnectionError{} = error} = Redis.command(conn, ["GET", "k"])
      assert Exception.message(error) =~ "no cluster seed answered"
      assert Process.alive?(conn)
      assert Cluster.masters(conn) == []
      Redis.stop(conn)
    end

    test "a seed that is not a cluster node, or answers garbage" do
      server = RedisServer.start!()

      assert {:error, %Error{message: message}} =
               Redis.start_link(cluster: [RedisServer.url(server)], sync_connect: true)

      assert message =~ "cluster seed 127.0.0.1:#{server.port}: not a Redis Cluster node"
      assert message =~ "cluster support disabled"

      hostile = Analytics.HostileRedis.start!({:reply, "*2\r\n:5\r\n$3\r\nabc\r\n"})
      on_exit(fn -> Analytics.HostileRedis.stop(hostile) end)

      assert {:error, %Error{message: message}} =
               Redis.start_link(
                 cluster: [Analytics.HostileRedis.url(hostile)],
                 sync_connect: true
               )

      assert message =~ "its answer to CLUSTER SHARDS is not a slot map"
    end
  end
end
