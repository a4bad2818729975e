defmodule Analytics.CacheTest do
  use ExUnit.Case, async: true
  import Analytics.Eventually
  alias Analytics.{Cache, Redis, RedisServer, Series}
  alias Analytics.Redis.ConnectionError

  setup context do
    server = RedisServer.start!()
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server))
    # One cache name per test, so the tests run side by side.
    %{server: server, conn: conn, name: :"cache_#{context.line}"}
  end

  defp packed(values, :f64), do: for(x <- values, into: <<>>, do: <<x::float-native-64>>)
  defp packed(values, :i64), do: for(x <- values, into: <<>>, do: <<x::signed-native-64>>)

  defp put(conn, key, values, dtype),
    do: {:ok, "OK"} = Redis.command(conn, ["SET", key, packed(values, dtype)])

  defp start_cache(server, name, opts) do
    start_supervised!({Cache, [name: name, redis: [url: RedisServer.url(server)]] ++ opts})
  end

  defp holds?(cache, key, expected) do
    case Cache.get(cache, key) do
      {:ok, series} -> Series.to_list(series) == expected
      :error -> false
    end
  end

  defp values(cache, key) do
    {:ok, series} = Cache.get(cache, key)
    Series.to_list(series)
  end

  test "fetches fixed keys, fetch specs and every key a SCAN pattern finds", ctx do
    put(ctx.conn, "metric:a:values", [1.5, :math.pi()], :f64)
    put(ctx.conn, "metric:b:values", [-2.0], :f64)
    put(ctx.conn, "metric:a:ts", [100, 160], :i64)
    put(ctx.conn, "other", [7], :i64)
    {:ok, 3} = Redis.command(ctx.conn, ["RPUSH", "list", "1", "2", "3.5"])
    # Enough keys that SCAN takes several round trips.
    for i <- 1..1_500, do: put(ctx.conn, "many:#{i}", [i], :i64)

    start_cache(ctx.server, ctx.name,
      keys: [{"other", :i64}, {:the_list, {:lrange, "list", 0, -1, :f64}}],
      scan: [{"metric:*:values", :f64}, {"metric:*:ts", :i64}, {"many:*", :i64}]
    )

    assert Cache.refresh(ctx.name) == :ok
    assert values(ctx.name, "metric:a:values") == [1.5, :math.pi()]
    assert values(ctx.name, "metric:b:values") == [-2.0]
    assert values(ctx.name, "metric:a:ts") == [100, 160]
    assert values(ctx.name, "other") == [7]
    assert values(ctx.name, :the_list) == [1.0, 2.0, 3.5]
    assert values(ctx.name, "many:1234") == [1234]
    assert Cache.get(ctx.name, "missing") == :error
    assert length(Cache.keys(ctx.name)) == 1_505

    assert %{state: :fresh, entries: 1_505, last_error: nil, age_ms: age} = Cache.status(ctx.name)
    assert age >= 0
  end

  test "reads share the cached column instead of copying it", ctx do
    put(ctx.conn, "big", Enum.to_list(1..100_000), :i64)
    start_cache(ctx.server, ctx.name, keys: [{"big", :i64}])
    :ok = Cache.refresh(ctx.name)
    {:ok, first} = Cache.get(ctx.name, "big")
    {:ok, second} = Cache.get(ctx.name, "big")
    assert first.resource == second.resource
    assert Analytics.reduce(second, :sum) == div(100_000 * 100_001, 2)
  end

  test "status says how long the last refresh took: a hung one from a quick one", ctx do
    put(ctx.conn, "k", [1.0], :f64)
    start_cache(ctx.server, ctx.name, keys: [{"k", :f64}], interval: 60_000, await: true)
    quick = Cache.status(ctx.name).last_refresh_ms
    assert is_integer(quick) and quick >= 0

    # Redis paused for 400 ms holds the next refresh at least that long.
    RedisServer.pause(ctx.server)
    refresh = Task.async(fn -> Cache.refresh(ctx.name) end)
    assert wait_until(fn -> Cache.status(ctx.name).refreshing end)
    Process.sleep(400)
    RedisServer.resume(ctx.server)
    assert Task.await(refresh, 10_000) == :ok
    assert Cache.status(ctx.name).last_refresh_ms >= 400
  end

  test "refreshes on its interval, and keys that vanish from Redis vanish from it", ctx do
    put(ctx.conn, "m:1", [1.0], :f64)
    put(ctx.conn, "m:2", [2.0], :f64)
    start_cache(ctx.server, ctx.name, scan: [{"m:*", :f64}], interval: 50)
    assert wait_until(fn -> Cache.keys(ctx.name) == ["m:1", "m:2"] end)

    put(ctx.conn, "m:1", [10.0, 11.0], :f64)
    {:ok, 1} = Redis.command(ctx.conn, ["DEL", "m:2"])
    assert wait_until(fn -> Cache.keys(ctx.name) == ["m:1"] end)
    assert wait_until(fn -> values(ctx.name, "m:1") == [10.0, 11.0] end)
  end

  test "serves the last good data, marked stale, while Redis is down, and recovers", ctx do
    put(ctx.conn, "m:1", [1.0, 2.0], :f64)
    start_cache(ctx.server, ctx.name, scan: [{"m:*", :f64}], interval: 100)
    :ok = Cache.refresh(ctx.name)

    RedisServer.stop(ctx.server)
    assert {:error, %ConnectionError{}} = Cache.refresh(ctx.name)
    assert values(ctx.name, "m:1") == [1.0, 2.0]
    assert %{state: :stale, age_ms: age, last_error: %ConnectionError{}} = Cache.status(ctx.name)
    Process.sleep(150)
    assert Cache.status(ctx.name).age_ms > age

    # Redis comes back empty (no persistence); the cache notices by itself.
    server = RedisServer.restart!(ctx.server)
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server))
    put(conn, "m:1", [3.0], :f64)
    # A refresh may land between the restart and the write: wait for the value.
    assert wait_until(fn -> holds?(ctx.name, "m:1", [3.0]) end)
    assert Cache.status(ctx.name).state == :fresh
  end

  test "starts while Redis is down and fills once it is up", ctx do
    RedisServer.stop(ctx.server)
    start_cache(ctx.server, ctx.name, keys: [{"k", :f64}], interval: 50)
    assert %{state: :empty, entries: 0, age_ms: nil} = Cache.status(ctx.name)
    assert Cache.get(ctx.name, "k") == :error

    server = RedisServer.restart!(ctx.server)
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server))
    put(conn, "k", [4.5], :f64)
    # A refresh may land between the restart and the write (an empty series).
    assert wait_until(fn -> holds?(ctx.name, "k", [4.5]) end)
  end

  test "a value that is not packed numbers fails the refresh, naming the key, and keeps the old data",
       ctx do
    put(ctx.conn, "k", [1.0], :f64)
    start_cache(ctx.server, ctx.name, keys: [{"k", :f64}])
    :ok = Cache.refresh(ctx.name)
    {:ok, "OK"} = Redis.command(ctx.conn, ["SET", "k", "not eight bytes"])
    assert {:error, error} = Cache.refresh(ctx.name)
    assert Exception.message(error) =~ "k"
    assert values(ctx.name, "k") == [1.0]
    assert Cache.status(ctx.name).state == :stale
  end

  test "bad options raise ArgumentError naming the problem", ctx do
    url = RedisServer.url(ctx.server)

    for {opts, message} <- [
          {[], ~r/needs a :name atom, got: nil/},
          {[name: "x"], ~r/needs a :name atom, got: "x"/},
          {[name: ctx.name, keys: ["k"]], ~r/cache key must be \{key, :f64 \| :i64\}.*got: "k"/},
          {[name: ctx.name, keys: [{"k", :u8}]], ~r/got: \{"k", :u8\}/},
          {[name: ctx.name, keys: [{:x, {:lrange, "k"}}]], ~r/fetch spec/},
          {[name: ctx.name, scan: ["m:*"]], ~r/scan must be \{pattern, :f64 \| :i64\}/},
          {[name: ctx.name, interval: 0], ~r/:interval must be a positive integer, got: 0/},
          {[name: ctx.name, timeout: :soon], ~r/:timeout must be a positive integer, got: :soon/}
        ] do
      assert_raise ArgumentError, message, fn -> Cache.start_link([redis: [url: url]] ++ opts) end
    end

    assert_raise ArgumentError, ~r/no Analytics.Cache running as :nobody_here/, fn ->
      Cache.get(:nobody_here, "k")
    end
  end

  test "stopping the cache closes its connection and frees its table", ctx do
    pid = start_cache(ctx.server, ctx.name, keys: [])
    :ok = Cache.refresh(ctx.name)

    {:links, [_supervisor, conn]} =
      Process.info(pid, :links) |> then(fn {k, l} -> {k, Enum.sort(l)} end)

    ref = Process.monitor(conn)
    :ok = stop_supervised(Cache)
    assert_receive {:DOWN, ^ref, :process, ^conn, _}
    assert :ets.whereis(ctx.name) == :undefined
  end

  test "a name that is not an atom is an ArgumentError naming it, in every function" do
    for bad <- ["Metrics", 'x', 1, nil, {:global, :x}] do
      for call <- [
            fn -> Cache.get(bad, "k") end,
            fn -> Cache.keys(bad) end,
            fn -> Cache.status(bad) end,
            fn -> Cache.refresh(bad) end,
            fn -> Cache.await(bad, 10) end
          ] do
        assert_raise ArgumentError,
                     ~r/an Analytics.Cache is named by an atom, got: #{Regex.escape(inspect(bad))}/,
                     call
      end
    end
  end

  test "a cache that is not running: every function raises the same ArgumentError", ctx do
    calls = fn name ->
      [
        fn -> Cache.get(name, "k") end,
        fn -> Cache.keys(name) end,
        fn -> Cache.status(name) end,
        fn -> Cache.refresh(name) end,
        fn -> Cache.await(name, 10) end
      ]
    end

    for call <- calls.(:nobody_here) do
      assert_raise ArgumentError, "no Analytics.Cache running as :nobody_here", call
    end

    # Started, then stopped: the same.
    start_cache(ctx.server, ctx.name, keys: [])
    :ok = stop_supervised(Cache)

    for call <- calls.(ctx.name) do
      assert_raise ArgumentError, "no Analytics.Cache running as #{inspect(ctx.name)}", call
    end
  end

  test "options, the Redis ones included, are checked in the caller and raise", ctx do
    url = RedisServer.url(ctx.server)

    for {opts, message} <- [
          {[redis: [url: "http://x"]], ~r/expected a URL like redis:\/\//},
          {[redis: [url: url, pasword: "x"]],
           ~r/unknown option :pasword for Analytics.Redis.start_link\/1/},
          {[redis: [port: 0]], ~r/port must be an integer from 1 to 65535/},
          {[redis: "redis://x"], ~r/:redis must be a keyword list of options, got a string/},
          {[redis: [url: url], intervl: 5],
           ~r/unknown option :intervl for Analytics.Cache.start_link\/1; valid options: :name, :redis, :keys, :scan, :interval, :timeout, :await/},
          {[redis: [url: url], await: :yes], ~r/:await must be true or false, got: :yes/},
          {[redis: [url: url], keys: :k], ~r/:keys must be a list, got: :k/}
        ] do
      assert_raise ArgumentError, message, fn -> Cache.start_link([name: ctx.name] ++ opts) end
      assert_raise ArgumentError, message, fn -> Cache.child_spec([name: ctx.name] ++ opts) end
      assert Process.whereis(ctx.name) == nil
    end
  end

  test "await: true returns once the first refresh is in; await/2 waits for data", ctx do
    put(ctx.conn, "k", [1.5, 2.5], :f64)

    # The moduledoc's example: read right after starting.
    {:ok, _sup} =
      Supervisor.start_link(
        [
          {Cache,
           name: ctx.name,
           redis: [url: RedisServer.url(ctx.server)],
           keys: [{"k", :f64}],
           await: true}
        ],
        strategy: :one_for_one
      )

    assert values(ctx.name, "k") == [1.5, 2.5]
    assert Cache.await(ctx.name, 0) == :ok

    other = :"#{ctx.name}_other"

    start_supervised!(
      Supervisor.child_spec(
        {Cache, name: other, redis: [url: RedisServer.url(ctx.server)], keys: [{"k", :f64}]},
        id: :other
      )
    )

    assert Cache.await(other) == :ok
    assert values(other, "k") == [1.5, 2.5]
  end

  test "await/2 with Redis down: the latest error after the timeout, :ok once data comes", ctx do
    RedisServer.stop(ctx.server)
    start_cache(ctx.server, ctx.name, keys: [{"k", :f64}], interval: 50, await: true)
    assert Cache.status(ctx.name).state == :empty
    assert {:error, %ConnectionError{}} = Cache.await(ctx.name, 100)

    waiter = Task.async(fn -> Cache.await(ctx.name, 20_000) end)
    server = RedisServer.restart!(ctx.server)
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server))
    put(conn, "k", [7.0], :f64)
    assert Task.await(waiter, 25_000) == :ok
    # The first data may be from before the write (an empty series).
    assert wait_until(fn -> holds?(ctx.name, "k", [7.0]) end)

    assert_raise ArgumentError, ~r/timeout must be a non-negative integer/, fn ->
      Cache.await(ctx.name, :infinity)
    end
  end

  test "keeps its data when its connection dies while Redis is down", ctx do
    put(ctx.conn, "k", [1.0, 2.0], :f64)
    pid = start_cache(ctx.server, ctx.name, keys: [{"k", :f64}], interval: 50, await: true)
    assert values(ctx.name, "k") == [1.0, 2.0]

    RedisServer.stop(ctx.server)
    conn = :sys.get_state(pid).conn
    ref = Process.monitor(conn)
    Process.exit(conn, :kill)
    assert_receive {:DOWN, ^ref, :process, ^conn, :killed}

    # The same cache, with a new connection and the old data.
    assert wait_until(fn -> :sys.get_state(pid).conn != conn end)
    assert Process.whereis(ctx.name) == pid
    assert values(ctx.name, "k") == [1.0, 2.0]
    assert wait_until(fn -> Cache.status(ctx.name).state == :stale end)
    assert values(ctx.name, "k") == [1.0, 2.0]

    server = RedisServer.restart!(ctx.server)
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server))
    put(conn, "k", [3.0], :f64)
    assert wait_until(fn -> holds?(ctx.name, "k", [3.0]) end)
    assert Cache.status(ctx.name).state == :fresh
  end
end
