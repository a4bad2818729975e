defmodule Analytics.HotUpgradeTest do
  # Loading Analytics.Native again, as a release upgrade or `recompile` in
  # iex does, keeps every live series, cache and connection working, callers
  # in flight included, and the old code purges cleanly.
  use ExUnit.Case, async: false
  import Analytics.Eventually
  alias Analytics.{Cache, Redis, RedisServer, Series}

  defp reload_native do
    {module, binary, file} = :code.get_object_code(Analytics.Native)
    assert {:module, Analytics.Native} = :code.load_binary(module, file, binary)
    # No process may still run the old code: soft_purge refuses otherwise.
    assert :code.soft_purge(Analytics.Native)
  end

  test "series, a cache and connections with requests in flight survive two reloads" do
    server = RedisServer.start!()
    on_exit(fn -> RedisServer.stop(server) end)
    url = RedisServer.url(server)

    {:ok, conn} = Redis.start_link(url: url, sync_connect: true)
    packed = for x <- 1..1_000, into: <<>>, do: <<x * 1.0::float-native-64>>
    {:ok, "OK"} = Redis.command(conn, ["SET", "metric", packed])

    {:ok, _} =
      Cache.start_link(
        name: :upgrade_cache,
        redis: [url: url],
        keys: [{"metric", :f64}],
        await: true
      )

    series = Series.from_list(Enum.to_list(1..100_000), :i64)
    before = Analytics.native_counters()

    # A BLPOP holds the connection for 300 ms, so the fetch queued behind it
    # is still in flight while the module is loaded twice.
    blocked =
      Task.async(fn -> Redis.command(conn, ["BLPOP", "nothing", "0.3"], timeout: 5_000) end)

    assert wait_until(fn -> Analytics.native_counters().redis_requests > before.redis_requests end)

    {:ok, ref} = Redis.fetch_async(conn, {:get, "metric", :f64})

    reload_native()
    reload_native()

    assert Task.await(blocked) == {:ok, nil}
    assert_receive {:analytics_redis, ^ref, {:ok, fetched}}, 5_000
    assert Analytics.reduce(fetched, :sum) == 500_500.0
    refute_receive {:analytics_redis, ^ref, _}, 100

    # Everything made by the old code answers under the new one.
    assert Analytics.reduce(series, [:sum, :count]) == %{sum: 5_000_050_000, count: 100_000}
    assert Series.to_list(Series.slice(series, 10, 3)) == [11, 12, 13]
    assert {:ok, cached} = Cache.get(:upgrade_cache, "metric")
    assert Analytics.reduce(cached, :max) == 1_000.0
    assert Cache.refresh(:upgrade_cache) == :ok
    assert {:ok, "PONG"} = Redis.command(conn, ["PING"])
    assert Analytics.reduce(Series.from_list([1.5, 2.5]), :sum) == 4.0

    # Nothing leaked: the counters are back where they were, and fall to
    # zero as the old objects go.
    assert Analytics.native_counters().redis_engines == before.redis_engines
    GenServer.stop(:upgrade_cache)
    Redis.stop(conn)

    assert wait_until(fn ->
             Analytics.native_counters().redis_engines == before.redis_engines - 2
           end)

    assert Analytics.native_counters().redis_requests == 0
  end
end
