defmodule Analytics.Redis.CommandsTest do
  use ExUnit.Case, async: true
  alias Analytics.{Redis, RedisServer, Series}
  alias Analytics.Redis.Error

  setup context, do: RedisServer.with_connection(context)

  test "commands and pipelines return plain terms, errors in place", %{conn: conn} do
    assert Redis.command(conn, ["SET", "k", "v"]) == {:ok, "OK"}
    assert Redis.command(conn, ["GET", "k"]) == {:ok, "v"}
    assert Redis.command(conn, ["GET", "missing"]) == {:ok, nil}
    assert Redis.command(conn, ["INCRBY", "n", 41]) == {:ok, 41}

    assert {:error, %Error{message: "ERR value is not an integer" <> _}} =
             Redis.command(conn, ["INCR", "k"])

    assert {:ok, [2, ["a", "b"], %Error{message: "ERR unknown command" <> _}, "OK"]} =
             Redis.pipeline(conn, [
               ["RPUSH", "l", "a", "b"],
               ["LRANGE", "l", 0, -1],
               ["NOPE"],
               ["PING", "OK"]
             ])
  end

  test "a key with spaces, quotes and CRLF travels as one argument", %{conn: conn} do
    key = "a b \"quoted\"\r\nSET injected 1\r\n"
    assert Redis.command(conn, ["SET", key, "value"]) == {:ok, "OK"}
    assert Redis.command(conn, ["GET", key]) == {:ok, "value"}
    assert Redis.command(conn, ["KEYS", "*"]) == {:ok, [key]}
  end

  test "fetch decodes numbers into series", %{conn: conn} do
    {:ok, _} =
      Redis.pipeline(conn, [
        ["RPUSH", "l", "1.5", "-2", "inf", "1e300"],
        ["RPUSH", "ints", "1", "-9223372036854775808"]
      ])

    {:ok, _} = Redis.command(conn, ["HSET", "h", "a", "1", "b", "2"])
    {:ok, _} = Redis.command(conn, ["ZADD", "z", "3", "c", "1.5", "a", "2", "b"])
    {:ok, _} = Redis.command(conn, ["MSET", "m1", "4", "m2", "5.5"])

    assert {:ok, l} = Redis.fetch(conn, {:lrange, "l", 0, -1, :f64})
    assert Series.to_list(l) == [1.5, -2.0, :infinity, 1.0e300]
    assert {:ok, ints} = Redis.fetch(conn, {:lrange, "ints", 0, -1, :i64})
    assert Series.to_list(ints) == [1, -9_223_372_036_854_775_808]
    assert {:ok, h} = Redis.fetch(conn, {:hvals, "h", :i64})
    assert Enum.sort(Series.to_list(h)) == [1, 2]
    assert {:ok, z} = Redis.fetch(conn, {:zrange_scores, "z", 0, -1})
    assert Series.to_list(z) == [1.5, 2.0, 3.0]
    assert {:ok, m} = Redis.fetch(conn, {:mget, ["m1", "missing", "m2"], :f64})
    assert Series.to_list(m) == [4.0, :nan, 5.5]
  end

  test "packed GET values, missing keys and large lists", %{conn: conn} do
    packed = for x <- [1.5, -2.5, 1.0e-300], into: <<>>, do: <<x::float-native-64>>
    {:ok, "OK"} = Redis.command(conn, ["SET", "p", packed])
    assert {:ok, s} = Redis.fetch(conn, {:get, "p", :f64})
    assert Series.to_list(s) == [1.5, -2.5, 1.0e-300]
    assert {:ok, empty} = Redis.fetch(conn, {:get, "missing", :i64})
    assert {Series.size(empty), Series.dtype(empty)} == {0, :i64}
    assert {:ok, none} = Redis.fetch(conn, {:lrange, "missing", 0, -1, :f64})
    assert Series.size(none) == 0

    values = Enum.to_list(1..200_000)

    for chunk <- Enum.chunk_every(values, 10_000),
        do: {:ok, _} = Redis.command(conn, ["RPUSH", "big" | chunk])

    assert {:ok, big} = Redis.fetch(conn, {:lrange, "big", 0, -1, :i64})
    assert Analytics.reduce(big, [:count, :sum]) == %{count: 200_000, sum: Enum.sum(values)}
  end

  test "a 64 MiB packed value round-trips", %{conn: conn} do
    n = 8 * 1024 * 1024
    packed = :binary.copy(<<0.5::float-native-64>>, n)
    assert {:ok, "OK"} = Redis.command(conn, ["SET", "huge", packed], timeout: 30_000)
    assert {:ok, s} = Redis.fetch(conn, {:get, "huge", :f64}, timeout: 30_000)
    assert Series.size(s) == n
    assert Analytics.reduce(s, :sum) == n * 0.5
  end

  test "bad elements and wrong types give errors naming the key", %{conn: conn} do
    {:ok, _} = Redis.command(conn, ["RPUSH", "mixed", "1", "two", "3"])
    {:ok, "OK"} = Redis.command(conn, ["SET", "ragged", "abc"])

    assert Redis.fetch(conn, {:lrange, "mixed", 0, -1, :f64}) ==
             {:error,
              %Error{
                message:
                  "list index 1 of key mixed is not a number: two, " <>
                    ~s(fetching {:lrange, "mixed", 0, -1, :f64})
              }}

    assert Redis.fetch(conn, {:get, "ragged", :f64}) ==
             {:error,
              %Error{
                message:
                  "key ragged holds 3 bytes, not a whole number of 8-byte values, " <>
                    ~s(fetching {:get, "ragged", :f64})
              }}

    assert {:error, %Error{message: "WRONGTYPE" <> _}} =
             Redis.fetch(conn, {:hvals, "mixed", :f64})

    # The connection stays in sync after all of that.
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
  end

  test "fetch_async answers with a message; fetch_many pipelines specs", %{conn: conn} do
    {:ok, _} = Redis.command(conn, ["RPUSH", "a", "1", "2"])
    assert {:ok, ref} = Redis.fetch_async(conn, {:lrange, "a", 0, -1, :i64})
    assert_receive {:analytics_redis, ^ref, {:ok, series}}, 5_000
    assert Series.to_list(series) == [1, 2]
    refute_receive {:analytics_redis, ^ref, _}, 200

    assert {:ok, [a, %Error{}, b]} =
             Redis.fetch_many(conn, [
               {:lrange, "a", 0, -1, :f64},
               {:get, "a", :f64},
               {:lrange, "a", 1, 1, :i64}
             ])

    assert {Series.to_list(a), Series.to_list(b)} == {[1.0, 2.0], [2]}
  end

  test "1,000 concurrent callers each get their own answer", %{conn: conn} do
    results =
      1..1000
      |> Enum.map(fn i ->
        Task.async(fn -> Redis.pipeline(conn, [["SET", "k#{i}", i], ["GET", "k#{i}"]]) end)
      end)
      |> Task.await_many(30_000)

    for {result, i} <- Enum.with_index(results, 1),
        do: assert(result == {:ok, ["OK", Integer.to_string(i)]})

    assert Redis.command(conn, ["DBSIZE"]) == {:ok, 1000}
  end

  test "connections register under a name and stop cleanly", %{server: server} do
    {:ok, pid} = Redis.start_link(url: RedisServer.url(server), name: :analytics_named_conn)
    assert Redis.command(:analytics_named_conn, ["PING"]) == {:ok, "PONG"}
    assert Redis.stop(:analytics_named_conn) == :ok
    refute Process.alive?(pid)

    assert_raise ArgumentError,
                 ~r/no Analytics.Redis connection running as :analytics_named_conn/,
                 fn ->
                   Redis.command(:analytics_named_conn, ["PING"])
                 end
  end

  test "runs under a supervisor", %{server: server} do
    pid =
      start_supervised!({Redis, url: RedisServer.url(server), name: :analytics_supervised_conn})

    assert Redis.command(:analytics_supervised_conn, ["PING"]) == {:ok, "PONG"}
    assert GenServer.whereis(:analytics_supervised_conn) == pid
  end

  test "databases are selected from the URL", %{server: server} do
    {:ok, db3} = Redis.start_link(url: RedisServer.url(server) <> "/3")
    {:ok, db0} = Redis.start_link(url: RedisServer.url(server))
    {:ok, "OK"} = Redis.command(db3, ["SET", "only_in_3", "x"])
    assert Redis.command(db0, ["GET", "only_in_3"]) == {:ok, nil}
    assert Redis.command(db3, ["GET", "only_in_3"]) == {:ok, "x"}
  end
end
