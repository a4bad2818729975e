defmodule AnalyticsService.AbuseTest do
  # Requests that cost much or probe: refused before the work, with one
  # message shape, and nothing in the log.
  use AnalyticsService.ServiceCase, async: false
  import ExUnit.CaptureLog
  alias Analytics.{Redis, RedisServer}
  import Analytics.Eventually

  setup context do
    start_service!(metrics: 5, refresh: Map.get(context, :refresh, 30_000), stale_after: 1_000)
  end

  test "groups are capped at 100,000, counted before any reducer runs", %{port: port, conn: conn} do
    # cpu.web-01 with 200,000 points, one a minute: by timestamp, 200,000 groups.
    load!(conn, 1, 200_000)

    :ok = Analytics.Cache.refresh(AnalyticsService.cache())

    assert {400, %{"error" => error}} =
             get!(port, "/metrics/cpu.web-01/groups?by=timestamp&reducers=count")

    assert error =~ "200000 groups is more than 100000"

    assert {400, %{"error" => error}} =
             post!(port, "/query", %{"metric" => "cpu.web-01", "group_by" => "timestamp"})

    assert error =~ "200000 groups is more than 100000"

    # 20,000 groups of 12 reducers: 240,000 results, under the limit;
    # 100,000 buckets of 3 reducers are over it.
    reducers = Enum.map_join(1..12, ",", &"p#{&1}")
    from = "from=#{1_764_000_000 - 60 * 19_999}"

    assert {200, %{"keys" => keys}} =
             get!(port, "/metrics/cpu.web-01/groups?by=timestamp&#{from}&reducers=#{reducers}")

    assert length(keys) == 20_000

    reducers = Enum.map_join(1..3, ",", &"p#{&1}")

    assert {400, %{"error" => error}} =
             get!(port, "/metrics/cpu.web-01/buckets?width=120&reducers=#{reducers}")

    assert error =~ "100000 buckets × 3 reducers is more than 250000 results"
  end

  test "a reducer asked for twice is refused", %{port: port} do
    summary = "/metrics/cpu.web-01/summary"

    for {reducers, message} <- [
          {"mean,mean", "reducers \"mean\" ask for the same reducer twice"},
          {"std,standard_deviation", ~s(reducers "std" and "standard_deviation" ask for)},
          {"p50,p50.0", ~s(reducers "p50" and "p50.0" ask for)}
        ] do
      assert {400, %{"error" => error}} = get!(port, "#{summary}?reducers=#{reducers}")
      assert error =~ message
    end

    duplicates = List.duplicate("p99", 32)

    assert {400, %{"error" => error}} =
             post!(port, "/query", %{"metric" => "cpu.web-01", "reducers" => duplicates})

    assert error =~ "ask for the same reducer twice"
    assert {200, _} = get!(port, "#{summary}?reducers=p50,median,p99,approx_p99")
  end

  test "a long reducers list is refused without being split whole", %{port: port} do
    body =
      :jiffy.encode(%{"metric" => "cpu.web-01", "reducers" => String.duplicate("p1,", 20_000)})

    assert {400, %{"error" => "at most 32 reducers"}} = post!(port, "/query", body)
  end

  test "a number out of range, a quoted key, a bad content-length: 400, and no log", %{
    port: port
  } do
    log =
      capture_log(fn ->
        assert {400, %{"error" => error}} =
                 post!(port, "/query", ~s({"metric": "cpu.web-01", "from": 1e400}))

        assert error =~ "a number in the request body is out of range"

        assert {400, %{"error" => error}} =
                 post!(port, "/query", %{"metric" => "cpu.web-01", "where" => ~s("zzq": 1)})

        assert error =~ "where: unknown name zzq"
      end)

    assert log == ""
    still_serving(port)
  end

  test "every unknown name gets the same message, atom or not", %{port: port} do
    message = fn source ->
      {400, %{"error" => error}} =
        post!(port, "/query", %{"metric" => "cpu.web-01", "where" => source})

      error
    end

    # Each pair: a name that exists as an atom, one that does not.
    for {known_atom, unknown_atom} <- [
          {"erlang > 1", "zzqx_nothing > 1"},
          {"rm_rf(value) > 1", "zz_drop_table(value) > 1"},
          {"File.rm(value) > 1", "Zzqx.rm(value) > 1"}
        ] do
      [a, b] = [message.(known_atom), message.(unknown_atom)]
      name = fn source -> source |> String.split(~r/[ (.]/) |> hd() end

      assert String.replace(a, name.(known_atom), "NAME") ==
               String.replace(b, name.(unknown_atom), "NAME")

      assert a =~ "where: unknown name #{name.(known_atom)}"
    end

    # A known function called wrongly is still said so.
    assert message.("abs(value, value) > 1") =~ "does not support abs(value, value)"
  end

  @tag refresh: 200
  test "health says stale while Redis does not answer, and ok again after", %{
    port: port,
    server: server
  } do
    assert {200, %{"status" => "ok"}} = get!(port, "/health")
    RedisServer.pause(server)

    try do
      assert wait_until(fn -> match?({200, %{"status" => "stale"}}, get!(port, "/health")) end)
      assert {200, health} = get!(port, "/health")
      assert %{"redis" => "not answering", "cache" => %{"refreshing" => true}} = health
      assert health["cache"]["age_ms"] > health["cache"]["stale_after_ms"]
      # The data is still served.
      assert {200, %{"rows" => 20_000}} = get!(port, "/metrics/cpu.web-01/summary?reducers=count")
    after
      RedisServer.resume(server)
    end

    assert wait_until(fn ->
             match?({200, %{"status" => "ok", "redis" => "up"}}, get!(port, "/health"))
           end)
  end

  @tag refresh: 200
  test "health says no_metrics (503) when Redis holds none", %{port: port, conn: conn} do
    {:ok, "OK"} = Redis.command(conn, ["FLUSHALL"])
    assert wait_until(fn -> match?({503, %{"status" => "no_metrics"}}, get!(port, "/health")) end)
    assert {503, %{"metrics" => 0, "redis" => "up"}} = get!(port, "/health")
    load!(conn, 5)
    assert wait_until(fn -> match?({200, %{"status" => "ok"}}, get!(port, "/health")) end)
  end

  test "a wrong password shows in /health as refused credentials, not as Redis down" do
    server = RedisServer.start!(["--requirepass", "right"])

    start_from_passing_process!(
      name: :wrong_password_service,
      redis: [url: "redis://:not-the-s3cret@127.0.0.1:#{server.port}"],
      refresh: 200
    )

    port = AnalyticsService.port(:wrong_password_service)

    assert wait_until(fn ->
             match?(
               {503, %{"cache" => %{"last_error" => error}}} when is_binary(error),
               get!(port, "/health")
             )
           end)

    assert {503, health} = get!(port, "/health")
    assert %{"status" => "starting", "redis" => "refuses the credentials"} = health
    assert health["cache"]["last_error"] =~ "WRONGPASS"
    refute inspect(health) =~ "not-the-s3cret"
  end
end
