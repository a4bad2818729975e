defmodule Analytics.Redis.DeadlineTest do
  # "A Redis call always gets exactly one answer, no later than its
  # timeout", checked on the engine's own deadline. A synchronous call also
  # has an Elixir fallback (timeout + 1 s) that answers :timeout by itself;
  # fetch_async has none, so only the engine can answer it.
  use ExUnit.Case, async: true
  alias Analytics.{HostileRedis, Redis}
  alias Analytics.Redis.ConnectionError

  setup do
    server = HostileRedis.start!({:reply, "+PONG\r\n"})
    {:ok, conn} = Redis.start_link(url: HostileRedis.url(server))
    on_exit(fn -> HostileRedis.stop(server) end)
    # Connected (the handshake is answered) before the server goes quiet.
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
    %{server: server, conn: conn}
  end

  defp now, do: System.monotonic_time(:millisecond)

  test "the engine answers :timeout at its deadline by itself, once", %{
    conn: conn,
    server: server
  } do
    HostileRedis.set_mode(server, :silent)
    started = now()
    {:ok, ref} = Redis.fetch_async(conn, {:get, "k", :f64}, timeout: 200)
    assert_receive {:analytics_redis, ^ref, result}, 10_000
    elapsed = now() - started
    assert {:error, %ConnectionError{reason: :timeout}} = result
    # Not before the deadline; after it, loosely (a sync call's fallback
    # would only come at 1,200 ms, and this call has none).
    assert elapsed >= 200 and elapsed < 1_200, "answered after #{elapsed} ms"
    refute_receive {:analytics_redis, ^ref, _}, 500
  end

  test "many callers with different deadlines each get exactly one :timeout, none early", %{
    conn: conn,
    server: server
  } do
    HostileRedis.set_mode(server, :silent)
    started = now()

    deadlines =
      Map.new(1..40, fn i ->
        timeout = 25 * i
        {:ok, ref} = Redis.fetch_async(conn, {:get, "k#{i}", :f64}, timeout: timeout)
        {ref, timeout}
      end)

    answers =
      for _ <- 1..map_size(deadlines) do
        assert_receive {:analytics_redis, ref, {:error, %ConnectionError{reason: :timeout}}},
                       10_000

        {ref, now() - started}
      end

    assert answers |> Enum.map(&elem(&1, 0)) |> Enum.sort() ==
             deadlines |> Map.keys() |> Enum.sort()

    for {ref, at} <- answers do
      assert at >= deadlines[ref], "a #{deadlines[ref]} ms call was answered at #{at} ms"
    end

    refute_receive {:analytics_redis, _, _}, 500
  end

  test "a synchronous call's :timeout comes from the engine, not the Elixir fallback", %{
    conn: conn,
    server: server
  } do
    HostileRedis.set_mode(server, :silent)
    started = now()

    assert {:error, %ConnectionError{reason: :timeout}} =
             Redis.command(conn, ["PING"], timeout: 100)

    # The fallback would answer at 1,100 ms and leave the engine's own answer
    # to arrive later, unread.
    assert now() - started < 900
    refute_receive {:analytics_redis, _, _}, 1_500
  end

  test "a reply landing after the deadline is dropped, not delivered as a second answer", %{
    conn: conn,
    server: server
  } do
    # The reply takes the server ~350 ms to send; the caller gives up at 100.
    HostileRedis.set_mode(server, {:trickle, "+LATE\r\n", 50})
    {:ok, ref} = Redis.fetch_async(conn, {:get, "k", :f64}, timeout: 100)
    assert_receive {:analytics_redis, ^ref, {:error, %ConnectionError{reason: :timeout}}}, 10_000

    # The server answers one command at a time: this PING's answer comes only
    # after the late reply has landed and been read.
    HostileRedis.set_mode(server, {:reply, "+PONG\r\n"})
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
    refute_receive {:analytics_redis, ^ref, _}, 300
  end
end
