defmodule Analytics.Redis.SentinelTest do
  # A primary, a replica and three sentinels per test.
  use ExUnit.Case, async: true
  alias Analytics.{Eventually, Redis, RedisSentinel, RedisServer}
  alias Analytics.Redis.{ConnectionError, Error}

  @moduletag timeout: 120_000

  defp connect(setup, opts \\ []) do
    sentinel = [sentinels: RedisSentinel.urls(setup), group: RedisSentinel.group()] ++ opts
    Redis.start_link(sentinel: sentinel, sync_connect: true)
  end

  defp role(conn), do: conn |> Redis.command!(["ROLE"]) |> hd()

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

  # Each round writes a fresh value to 20 keys and reads each back in the
  # same pipeline: one server answers both, so they agree whatever a
  # failover lost. Errors a failover may give are counted.
  defp worker(conn, w, test_pid) do
    keys = for j <- 1..20, do: "s#{w}:#{j}"
    send(test_pid, {:running, w})
    {ok, errors, wrong} = worker_loop(conn, keys, 1, 0, 0, [])
    send(test_pid, {:done, w, ok, errors, wrong})
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
            failed = Enum.count(pairs, &match?([%Error{message: "READONLY" <> _} | _], &1))

            bad =
              Enum.reject(
                pairs,
                &(&1 == ["OK", "#{n}"] or match?([%Error{message: "READONLY" <> _} | _], &1))
              )

            worker_loop(conn, keys, n + 1, ok + good, errors + failed, Enum.take(bad ++ wrong, 5))

          {:error, %ConnectionError{}} ->
            Process.sleep(20)
            worker_loop(conn, keys, n + 1, ok, errors + 1, wrong)
        end
    end
  end

  test "the primary and a replica, as the sentinels name them" do
    setup = RedisSentinel.start!()
    {:ok, primary} = connect(setup)
    {:ok, replica} = connect(setup, role: :replica)
    assert role(primary) == "master"
    assert role(replica) == "slave"
    assert Redis.command(primary, ["SET", "k", "v"]) == {:ok, "OK"}
    assert Eventually.wait_until(fn -> Redis.command(replica, ["GET", "k"]) == {:ok, "v"} end)
    assert {:error, %Error{message: "READONLY" <> _}} = Redis.command(replica, ["SET", "k", "w"])

    assert {:ok, [%Analytics.Series{}]} =
             Redis.fetch_many(primary, [{:lrange, "none", 0, -1, :f64}])

    # A cache and a supervised connection take the same options.
    Redis.command!(primary, ["SET", "packed", <<1.5::float-native-64>>])
    sentinel = [sentinels: RedisSentinel.urls(setup), group: RedisSentinel.group()]

    {:ok, _} =
      Analytics.Cache.start_link(
        name: SentinelCache,
        redis: [sentinel: sentinel],
        keys: [{"packed", :f64}],
        await: true
      )

    assert {:ok, series} = Analytics.Cache.get(SentinelCache, "packed")
    assert Analytics.Series.to_list(series) == [1.5]

    {:ok, sup} =
      Supervisor.start_link([{Redis, sentinel: sentinel, name: SupervisedSentinel}],
        strategy: :one_for_one
      )

    assert Redis.command(SupervisedSentinel, ["GET", "k"]) == {:ok, "v"}
    Supervisor.stop(sup)
  end

  test "SENTINEL FAILOVER, then a killed primary, with callers running: nothing wrong, later calls succeed" do
    setup = RedisSentinel.start!()
    {:ok, conn} = connect(setup)
    first = setup.primary.port
    assert RedisSentinel.primary_port(setup) == first

    workers = start_workers(conn, 4)

    assert RedisSentinel.cli(hd(setup.sentinels).port, ["SENTINEL", "FAILOVER", "mymaster"]) ==
             "OK"

    second = setup.replica.port
    assert Eventually.wait_until(fn -> RedisSentinel.primary_port(setup) == second end, 30_000)

    # Writes reach the new primary without restarting anything.
    assert Eventually.wait_until(
             fn ->
               Redis.command(conn, ["SET", "after-failover", "1"]) == {:ok, "OK"} and
                 Redis.command(conn, ["ROLE"]) |> elem(1) |> hd() == "master" and
                 RedisSentinel.cli(second, ["GET", "after-failover"]) == "1"
             end,
             30_000
           )

    results = stop_workers(workers)
    assert Enum.all?(results, fn {ok, _errors} -> ok > 0 end)

    # The new primary killed: the old one, now its replica, is promoted.
    assert Eventually.wait_until(fn -> RedisSentinel.cli(first, ["ROLE"]) =~ "slave" end, 30_000)
    workers = start_workers(conn, 4)
    RedisServer.stop(setup.replica)
    assert Eventually.wait_until(fn -> RedisSentinel.primary_port(setup) == first end, 30_000)

    assert Eventually.wait_until(
             fn -> Redis.command(conn, ["SET", "after-kill", "1"]) == {:ok, "OK"} end,
             30_000
           )

    assert RedisSentinel.cli(first, ["GET", "after-kill"]) == "1"
    Process.sleep(300)
    results = stop_workers(workers)
    assert Enum.all?(results, fn {ok, _errors} -> ok > 0 end)
    assert Redis.pipeline!(conn, for(_ <- 1..50, do: ["INCR", "n"])) == Enum.to_list(1..50)
  end

  describe "bad input" do
    test "options: every mistake named" do
      for {sentinel, message} <- [
            {[group: "g"], ~r/:sentinels needs a non-empty list/},
            {[sentinels: [], group: "g"], ~r/:sentinels needs a non-empty list/},
            {[sentinels: ["redis://127.0.0.1:26379"]], ~r/:group must be a non-empty string/},
            {[sentinels: ["redis://127.0.0.1:26379"], group: "g", role: :master],
             ~r/:role must be :primary or :replica/},
            {[sentinels: [26379], group: "g"], ~r/a sentinel must be a URL/},
            {[sentinels: ["redis://127.0.0.1:26379"], group: "g", name: "x"],
             ~r/unknown option :name for the :sentinel option/},
            {"mymaster", ~r/:sentinel must be a keyword list/}
          ] do
        assert_raise ArgumentError, message, fn -> Redis.start_link(sentinel: sentinel) end
      end

      assert_raise ArgumentError, ~r/:port cannot be given with :sentinel/, fn ->
        Redis.start_link(sentinel: [sentinels: ["redis://127.0.0.1:26379"], group: "g"], port: 1)
      end
    end

    test "sentinels all down, and a group no sentinel knows" do
      port = RedisServer.free_port()

      assert {:error, %ConnectionError{} = error} =
               Redis.start_link(
                 sentinel: [sentinels: ["redis://127.0.0.1:#{port}"], group: "mymaster"],
                 sync_connect: true
               )

      assert Exception.message(error) ==
               "no sentinel answered for group \"mymaster\": 127.0.0.1:#{port} (econnrefused)"

      setup = RedisSentinel.start!()

      assert {:error, %Error{message: message}} =
               Redis.start_link(
                 sentinel: [sentinels: RedisSentinel.urls(setup), group: "nope"],
                 sync_connect: true
               )

      assert message =~ ~s(group "nope": no primary known for group "nope")

      assert {:error, %Error{message: message}} =
               Redis.start_link(
                 sentinel: [sentinels: RedisSentinel.urls(setup), group: "nope", role: :replica],
                 sync_connect: true
               )

      assert message =~ ~s(no primary known for group "nope")
    end
  end
end
