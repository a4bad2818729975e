defmodule Analytics.Redis.ReactorTest do
  # The shared reactor: connections are state on a few IO threads, not
  # threads; a call never waits on the socket, even against a server that
  # does not read; Unix domain sockets.
  use ExUnit.Case, async: false
  import Analytics.Eventually
  alias Analytics.{Redis, RedisServer}
  alias Analytics.Redis.ConnectionError

  defp os_threads, do: length(File.ls!("/proc/self/task"))

  test "200 connections add at most a handful of OS threads, and stopping them gives them back" do
    server = RedisServer.start!()
    {:ok, first} = Redis.start_link(url: RedisServer.url(server), sync_connect: true)
    assert Redis.command(first, ["PING"]) == {:ok, "PONG"}
    with_one = os_threads()

    more =
      for _ <- 2..200 do
        {:ok, conn} = Redis.start_link(url: RedisServer.url(server), sync_connect: true)
        conn
      end

    conns = [first | more]
    assert Enum.all?(conns, &(Redis.command(&1, ["PING"]) == {:ok, "PONG"}))
    {:ok, clients} = Redis.command(first, ["CLIENT", "LIST"])
    assert clients |> String.split("\n", trim: true) |> length() >= 200
    with_200 = os_threads()
    # One thread per connection would be 199 more.
    assert with_200 - with_one <= 4,
           "#{with_one} OS threads with 1 connection, #{with_200} with 200"

    Enum.each(conns, &Redis.stop/1)
    assert wait_until(fn -> os_threads() <= with_one end, 5_000)
    assert wait_until(fn -> Analytics.native_counters().redis_requests == 0 end)
  end

  test "a call against a paused server returns at once with a ref, and is answered by its timeout" do
    server = RedisServer.start!()
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server), sync_connect: true)
    {:ok, "OK"} = Redis.command(conn, ["SET", "k", <<1.0::float-native-64>>])
    RedisServer.pause(server)

    # 8 MB is more than the socket buffers hold: the send from the calling
    # process writes what fits and the reactor keeps the rest.
    big = String.duplicate("x", 8_000_000)
    started = System.monotonic_time(:millisecond)
    {:ok, set_ref} = Redis.fetch_async(conn, {:get, "k", :f64}, timeout: 300)
    assert {:ok, "OK"} != Redis.command(conn, ["SET", "big", big], timeout: 300)
    {:ok, get_ref} = Redis.fetch_async(conn, {:get, "k", :f64}, timeout: 300)
    # Loose: a busy machine, but nowhere near waiting for the server.
    assert System.monotonic_time(:millisecond) - started < 3_000

    for ref <- [set_ref, get_ref] do
      assert_receive {:analytics_redis, ^ref, {:error, %ConnectionError{reason: :timeout}}},
                     5_000
    end

    RedisServer.resume(server)
    assert wait_until(fn -> Redis.command(conn, ["PING"], timeout: 1_000) == {:ok, "PONG"} end)
  end

  test "a Unix domain socket, by redis+unix URL or the socket option" do
    # Short: a socket path holds at most 107 bytes.
    dir = Path.join(System.tmp_dir!(), "ar-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    path = Path.join(dir, "redis.sock")
    RedisServer.start!(["--unixsocket", path, "--unixsocketperm", "700"])

    {:ok, by_url} = Redis.start_link(url: "redis+unix://#{path}?db=2", sync_connect: true)
    {:ok, "OK"} = Redis.command(by_url, ["SET", "over-unix", "1"])
    {:ok, info} = Redis.command(by_url, ["CLIENT", "INFO"])
    assert info =~ "db=2"
    # Redis shows a Unix socket client's address as "<path>:0".
    assert info =~ "laddr=#{path}"

    {:ok, by_option} = Redis.start_link(socket: path, database: 2)
    assert wait_until(fn -> Redis.command(by_option, ["GET", "over-unix"]) == {:ok, "1"} end)

    missing = Path.join(dir, "nothing.sock")

    assert {:error, %ConnectionError{reason: :enoent, address: ^missing} = error} =
             Redis.start_link(socket: missing, sync_connect: true)

    assert Exception.message(error) == "cannot connect to #{missing}: enoent"
  end

  test "a bad socket option or redis+unix URL is an ArgumentError naming it" do
    assert_raise ArgumentError, ~r/socket must be the path of a Unix domain socket/, fn ->
      Redis.start_link(socket: "")
    end

    assert_raise ArgumentError, ~r/socket must be the path of a Unix domain socket/, fn ->
      Redis.start_link(socket: String.duplicate("a", 200))
    end

    assert_raise ArgumentError, ~r/an absolute path/, fn ->
      Redis.start_link(url: "redis+unix://relative.sock")
    end

    assert_raise ArgumentError, ~r/only query a redis\+unix URL takes is db=N/, fn ->
      Redis.start_link(url: "redis+unix:///tmp/r.sock?x=1")
    end
  end

  test "io_threads in the application environment is checked" do
    Application.put_env(:analytics, :io_threads, 0)

    try do
      assert_raise ArgumentError, ~r/io_threads: must be an integer from 1 to 1024, got: 0/, fn ->
        Redis.start_link(port: RedisServer.free_port())
      end
    after
      Application.delete_env(:analytics, :io_threads)
    end
  end
end
