defmodule AnalyticsService.FaultsTest do
  use AnalyticsService.ServiceCase, async: false
  import Analytics.Eventually
  alias Analytics.{Redis, RedisServer}

  setup do
    start_service!(metrics: 5, refresh: 200)
  end

  defp health(port), do: get!(port, "/health") |> elem(1)

  test "Redis killed under load: answers go on from the stale cache, health says so, and it recovers",
       %{port: port, server: server} do
    path = "/metrics/latency_ms.web-01/summary?reducers=count,mean,p99"
    {200, before} = get!(port, path)

    # Clients keep querying while Redis dies, until it comes back empty
    # (then a refresh may find the metrics gone until they are reloaded).
    load = Task.async(fn -> query_until_stopped(port, path, []) end)

    RedisServer.stop(server)
    assert wait_until(fn -> health(port)["status"] == "stale" end)
    stale = health(port)
    assert stale["redis"] == "down"
    assert stale["cache"]["state"] == "stale"
    # :closed while reconnecting names the address ("not connected to ...").
    assert stale["cache"]["last_error"] =~
             ~r/closed|disconnected|not connected to 127\.0\.0\.1:\d+/

    age = stale["cache"]["age_ms"]
    assert {200, ^before} = get!(port, path)

    Process.sleep(300)
    assert health(port)["cache"]["age_ms"] > age
    send(load.pid, :stop)
    answers = Task.await(load, 60_000)
    assert length(answers) > 10

    for {status, body} <- answers do
      assert status == 200
      assert body == before
    end

    # Redis returns empty (no persistence): reloaded, the service picks it up.
    restarted = RedisServer.restart!(server)
    {:ok, conn} = Redis.start_link(url: RedisServer.url(restarted))
    {:ok, "OK"} = Redis.command(conn, ["FLUSHALL"])
    load!(conn, 5)
    assert wait_until(fn -> health(port)["status"] == "ok" end)
    assert health(port)["redis"] == "up"
  end

  defp query_until_stopped(port, path, answers) do
    receive do
      :stop -> answers
    after
      0 -> query_until_stopped(port, path, [get!(port, path) | answers])
    end
  end

  test "a service started while Redis is down says starting, then serves once Redis is up",
       %{server: server} do
    RedisServer.stop(server)

    start_from_passing_process!(
      name: LateService,
      redis: [url: RedisServer.url(server)],
      refresh: 200
    )

    port = AnalyticsService.port(LateService)
    assert {503, %{"status" => "starting", "metrics" => 0}} = get!(port, "/health")
    assert {404, _} = get!(port, "/metrics/cpu.web-01/summary")

    restarted = RedisServer.restart!(server)
    {:ok, conn} = Redis.start_link(url: RedisServer.url(restarted))
    load!(conn, 5)
    assert wait_until(fn -> match?({200, %{"status" => "ok"}}, get!(port, "/health")) end)
    assert {200, %{"rows" => 20_000}} = get!(port, "/metrics/cpu.web-01/summary")
  end

  test "a value that cannot be decoded leaves the data stale, Redis up, and the error named",
       %{port: port, conn: conn} do
    {:ok, "OK"} = Redis.command(conn, ["SET", "metric:cpu.web-01:values", "not packed"])
    assert wait_until(fn -> health(port)["status"] == "stale" end)
    assert %{"redis" => "up", "cache" => %{"last_error" => error}} = health(port)
    assert error =~ "metric:cpu.web-01:values"
    assert {200, %{"rows" => 20_000}} = get!(port, "/metrics/cpu.web-01/summary?reducers=count")
  end

  test "stopping the service closes its port and its Redis connection", %{port: port} do
    pid = Process.whereis(AnalyticsService.cache())
    ref = Process.monitor(pid)
    :ok = AnalyticsService.stop(AnalyticsService)
    assert {:error, :not_found} = AnalyticsService.stop(AnalyticsService)
    assert_receive {:DOWN, ^ref, :process, ^pid, _}

    assert wait_until(fn ->
             case :gen_tcp.connect({127, 0, 0, 1}, port, []) do
               {:error, :econnrefused} -> true
               # Accepted, or reset, by the listener as it closes.
               {:error, _closing} -> false
               {:ok, socket} -> :gen_tcp.close(socket) && false
             end
           end)
  end
end
