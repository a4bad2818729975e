defmodule Analytics.Redis.FaultsTest do
  use ExUnit.Case, async: true
  import Analytics.Eventually
  alias Analytics.{Redis, RedisServer}
  alias Analytics.Redis.ConnectionError

  setup context, do: RedisServer.with_connection(context)

  doctest Analytics.Redis.ConnectionError

  # Polls until the connection answers again (it reconnects with backoff).
  defp wait_until_up(conn, tries \\ 200) do
    case Redis.command(conn, ["PING"], timeout: 500) do
      {:ok, "PONG"} ->
        :ok

      {:error, %ConnectionError{}} when tries > 0 ->
        Process.sleep(25)
        wait_until_up(conn, tries - 1)
    end
  end

  test "a paused server times callers out; late replies are dropped", %{
    conn: conn,
    server: server
  } do
    {:ok, "OK"} = Redis.command(conn, ["SET", "k", "before"])
    RedisServer.pause(server)
    started = System.monotonic_time(:millisecond)

    assert Redis.command(conn, ["GET", "k"], timeout: 200) ==
             {:error, %ConnectionError{reason: :timeout}}

    assert System.monotonic_time(:millisecond) - started < 1_000
    RedisServer.resume(server)
    # The timed-out GET's reply arrives first and must not be mistaken for this one.
    assert Redis.command(conn, ["SET", "k", "after"]) == {:ok, "OK"}
    assert Redis.command(conn, ["GET", "k"]) == {:ok, "after"}
  end

  test "a killed server fails in-flight callers with :disconnected, then :closed, then recovers",
       %{conn: conn, server: server} do
    RedisServer.pause(server)
    wait_until_pending(conn, 0)

    callers =
      for i <- 1..20,
          do: Task.async(fn -> Redis.command(conn, ["SET", "k#{i}", i], timeout: 10_000) end)

    # All 20 in flight (sent, unanswered) when the server goes.
    wait_until_pending(conn, 20)
    RedisServer.stop(server)

    for result <- Task.await_many(callers, 5_000) do
      assert result == {:error, %ConnectionError{reason: :disconnected}}
    end

    # Not connected yet; whether a retry has failed by now is a race.
    assert {:error, %ConnectionError{reason: :closed, address: address}} =
             Redis.command(conn, ["PING"])

    assert address == "127.0.0.1:#{server.port}"

    RedisServer.restart!(server)
    assert wait_until_up(conn) == :ok
    # The reactor thread is shared with every other async test's
    # connections: on a loaded machine a reply can wait behind theirs.
    assert Redis.command(conn, ["SET", "again", "1"], timeout: 30_000) == {:ok, "OK"}
  end

  defp pending(conn), do: Analytics.Native.redis_pending(:persistent_term.get({Redis, conn}))

  defp wait_until_pending(conn, count) do
    assert wait_until(fn -> pending(conn) == count end, 2_000),
           "#{pending(conn)} requests pending, expected #{count}"
  end

  test "callers that die have their pending requests dropped", %{conn: conn, server: server} do
    RedisServer.pause(server)

    callers =
      for i <- 1..10,
          do: spawn(fn -> Redis.command(conn, ["SET", "k#{i}", i], timeout: 60_000) end)

    wait_until_pending(conn, 10)
    Enum.each(callers, &Process.exit(&1, :kill))
    # Dropped while the server is still paused, long before their timeouts.
    wait_until_pending(conn, 0)
    RedisServer.resume(server)
    # Their replies still arrive, are read and dropped; the stream stays in sync.
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
    # The IO thread counts a request done just after sending its reply.
    assert wait_until(fn -> pending(conn) == 0 end)
  end

  test "stop answers pending callers with :closed", %{conn: conn, server: server} do
    RedisServer.pause(server)
    wait_until_pending(conn, 0)
    pending = Task.async(fn -> Redis.command(conn, ["PING"], timeout: 10_000) end)
    wait_until_pending(conn, 1)
    Redis.stop(conn)
    assert Task.await(pending, 5_000) == {:error, %ConnectionError{reason: :closed}}

    assert_raise ArgumentError, ~r/no Analytics.Redis connection running/, fn ->
      Redis.command(conn, ["PING"])
    end

    RedisServer.resume(server)
  end

  test "a connection process killed outright still stops its engine", %{
    conn: observer,
    server: server
  } do
    {:ok, doomed} = Redis.start_link(url: RedisServer.url(server))
    Process.unlink(doomed)
    {:ok, "OK"} = Redis.command(doomed, ["CLIENT", "SETNAME", "doomed"])
    # The engine counts a request done just after answering it.
    wait_until_pending(doomed, 0)

    pending =
      Task.async(fn -> Redis.command(doomed, ["BLPOP", "never", "0"], timeout: 10_000) end)

    wait_until_pending(doomed, 1)

    Process.exit(doomed, :kill)

    assert Task.await(pending, 5_000) == {:error, %ConnectionError{reason: :closed}}

    assert_raise ArgumentError, ~r/no Analytics.Redis connection running/, fn ->
      Redis.command(doomed, ["PING"])
    end

    assert wait_until(fn -> not (client_list(observer) =~ "name=doomed") end)

    {:ok, next} = Redis.start_link(url: RedisServer.url(server))
    assert :persistent_term.get({Redis, doomed}, :erased) == :erased
    Redis.stop(next)
  end

  defp client_list(conn) do
    {:ok, list} = Redis.command(conn, ["CLIENT", "LIST"])
    list
  end

  test "a reply over max_reply_bytes is refused and the connection recovers", %{server: server} do
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server), max_reply_bytes: 4096)
    {:ok, "OK"} = Redis.command(conn, ["SET", "big", String.duplicate("x", 100_000)])

    assert Redis.command(conn, ["GET", "big"]) ==
             {:error, %ConnectionError{reason: :reply_too_large}}

    assert wait_until_up(conn) == :ok
    assert Redis.command(conn, ["STRLEN", "big"]) == {:ok, 100_000}
  end

  test "sync_connect: false connects in the background once the server appears" do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)

    {:ok, conn} = Redis.start_link(port: port, sync_connect: false, password: "s3cret")
    assert {:error, error} = Redis.command(conn, ["PING"])

    # As sync_connect: true would say it: where, and why the latest attempt failed.
    assert error ==
             %ConnectionError{
               reason: :closed,
               address: "127.0.0.1:#{port}",
               cause: :econnrefused
             }

    assert Exception.message(error) ==
             "not connected to 127.0.0.1:#{port} (last attempt: econnrefused)"

    refute inspect(error) =~ "s3cret"
    RedisServer.restart!(%RedisServer{port: port, args: ["--requirepass", "s3cret"]})
    assert wait_until_up(conn) == :ok
  end

  test "an unreachable server is an error, not a crash" do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)

    assert {:error, %ConnectionError{reason: :econnrefused} = error} =
             Redis.start_link(port: port, sync_connect: true)

    assert error.address == "127.0.0.1:#{port}"
    assert Exception.message(error) == "cannot connect to 127.0.0.1:#{port}: econnrefused"

    assert {:error, %ConnectionError{reason: "cannot resolve" <> _}} =
             Redis.start_link(host: "no-such-host.invalid", sync_connect: true)
  end
end
