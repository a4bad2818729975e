defmodule Analytics.Redis.HostileServerTest do
  # A server that misbehaves in every way the reader must survive: each case
  # gives the affected caller a clear error, the VM lives, and the same
  # connection serves again once the server behaves.
  use ExUnit.Case, async: true
  alias Analytics.{HostileRedis, Redis, Series}
  alias Analytics.Redis.ConnectionError

  setup do
    server = HostileRedis.start!({:reply, "+PONG\r\n"})
    {:ok, conn} = Redis.start_link(url: HostileRedis.url(server), max_reply_bytes: 64 * 1024)
    on_exit(fn -> HostileRedis.stop(server) end)
    %{server: server, conn: conn}
  end

  defp recovers(conn, server, tries \\ 200) do
    HostileRedis.set_mode(server, {:reply, "+PONG\r\n"})

    case Redis.command(conn, ["PING"], timeout: 500) do
      {:ok, "PONG"} -> true
      {:error, _} when tries > 0 -> Process.sleep(25) && recovers(conn, server, tries - 1)
      _ -> false
    end
  end

  defp error_reason(result) do
    assert {:error, %ConnectionError{reason: reason}} = result
    reason
  end

  test "a malformed reply is a protocol error; the connection is re-established", %{
    conn: conn,
    server: server
  } do
    HostileRedis.set_mode(server, {:reply, "?what is this\r\n"})
    assert error_reason(Redis.command(conn, ["PING"])) == :protocol_error
    assert recovers(conn, server)
  end

  test "a reply cut off by a closed connection is :disconnected", %{conn: conn, server: server} do
    HostileRedis.set_mode(server, {:reply_and_close, "$10\r\nabc"})
    assert error_reason(Redis.command(conn, ["GET", "k"])) == :disconnected
    assert recovers(conn, server)
  end

  test "replies split at every byte boundary decode whole", %{conn: conn, server: server} do
    HostileRedis.set_mode(server, {:trickle, "*3\r\n:1\r\n$3\r\nabc\r\n+OK\r\n", 1})
    assert Redis.command(conn, ["ANY"]) == {:ok, [1, "abc", "OK"]}

    HostileRedis.set_mode(server, {:trickle, "*3\r\n$1\r\n1\r\n$3\r\n2.5\r\n$2\r\n-3\r\n", 1})
    assert {:ok, series} = Redis.fetch(conn, {:lrange, "l", 0, -1, :f64})
    assert Series.to_list(series) == [1.0, 2.5, -3.0]
  end

  test "nesting deeper than the reader allows is a protocol error", %{conn: conn, server: server} do
    HostileRedis.set_mode(server, {:reply, String.duplicate("*1\r\n", 10_000) <> ":1\r\n"})
    assert error_reason(Redis.command(conn, ["PING"])) == :protocol_error
    assert recovers(conn, server)
  end

  test "a gigantic declared bulk length is bounded by max_reply_bytes", %{
    conn: conn,
    server: server
  } do
    HostileRedis.set_mode(server, {:reply, "$99999999999\r\n" <> String.duplicate("x", 100_000)})
    assert error_reason(Redis.command(conn, ["GET", "k"])) == :reply_too_large
    assert recovers(conn, server)
  end

  test "a reply that never comes times out promptly; a reconnect resynchronises", %{
    conn: conn,
    server: server
  } do
    HostileRedis.set_mode(server, :silent)
    {us, result} = :timer.tc(fn -> Redis.command(conn, ["PING"], timeout: 200) end)
    assert error_reason(result) == :timeout
    # Loosely: the engine's deadline answers (deadline_test.exs checks it
    # without the Elixir fallback), and nothing else arrives.
    assert us < 2_000_000
    refute_receive {:analytics_redis, _, _}, 300

    # A server that swallowed a command leaves the stream one reply short:
    # only a new connection puts it right.
    HostileRedis.set_mode(server, {:reply_and_close, ""})
    assert error_reason(Redis.command(conn, ["PING"])) == :disconnected
    assert recovers(conn, server)
  end

  test "a reply trickled a byte at a time times out, and is dropped when it lands", %{
    conn: conn,
    server: server
  } do
    # It lands well within the 2 s a late reply may take before the
    # connection is reset instead (see reply_limits_test.exs).
    HostileRedis.set_mode(server, {:trickle, "+OKOK\r\n", 50})
    assert error_reason(Redis.command(conn, ["PING"], timeout: 100)) == :timeout
    # The server answers one command at a time, so this PING's answer comes
    # only once the late reply has landed; it must not reach either caller.
    HostileRedis.set_mode(server, {:reply, "+PONG\r\n"})
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
    refute_receive {:analytics_redis, _, _}, 300
  end

  test "numbers that are not numbers name the key and element", %{conn: conn, server: server} do
    HostileRedis.set_mode(server, {:reply, "*2\r\n$1\r\n1\r\n$3\r\nabc\r\n"})
    assert {:error, error} = Redis.fetch(conn, {:lrange, "bad", 0, -1, :f64})
    assert Exception.message(error) =~ "bad"
    assert Exception.message(error) =~ "1"
    assert recovers(conn, server)
  end
end
