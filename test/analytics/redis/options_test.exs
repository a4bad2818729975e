defmodule Analytics.Redis.OptionsTest do
  # start_link's and every call's options: checked before anything starts,
  # unknown ones refused; background connect by default; the ! variants.
  use ExUnit.Case, async: true
  import Analytics.Eventually
  alias Analytics.{Redis, RedisServer}
  alias Analytics.Redis.{ConnectionError, Error}

  test "a port in a URL that is not a number is an ArgumentError, not port 6379" do
    for url <- [
          "redis://127.0.0.1:notaport",
          "redis://127.0.0.1:63x91",
          "redis://127.0.0.1:+6379",
          "redis://127.0.0.1:0",
          "redis://127.0.0.1:65536",
          "redis://127.0.0.1:/0",
          "redis://[::1]:x"
        ] do
      assert_raise ArgumentError,
                   ~r/port in a URL must be a number from 1 to 65535, got: redis:/,
                   fn ->
                     Redis.start_link(url: url)
                   end
    end
  end

  test "a URL's parts reach the server: port, database, IPv6 host, percent-encoding" do
    server = RedisServer.start!(["--requirepass", "p@ss/w:rd%"])
    port = server.port

    for url <- [
          "redis://:p@ss/w:rd%@127.0.0.1:#{port}/3",
          "redis://default:p%40ss%2Fw%3Ard%25@127.0.0.1:#{port}/3",
          "redis://:p@ss/w:rd%@[::ffff:127.0.0.1]:#{port}/3"
        ] do
      {:ok, conn} = Redis.start_link(url: url, sync_connect: true)
      assert Redis.command(conn, ["CLIENT", "INFO"]) |> elem(1) =~ "db=3"
      Redis.stop(conn)
    end
  end

  test "unknown start_link options raise, naming the option and the valid ones" do
    error =
      assert_raise ArgumentError, fn ->
        Redis.start_link(host: "127.0.0.1", pasword: "s3cret")
      end

    assert error.message =~ "unknown option :pasword for Analytics.Redis.start_link/1"
    assert error.message =~ ":password"
    assert error.message =~ ":sync_connect"
    refute error.message =~ "s3cret"

    for opts <- [[{"host", "x"}], ["redis://:s3cret@h"], [:sync_connect]] do
      error =
        assert_raise ArgumentError, ~r/expects a keyword list/, fn -> Redis.start_link(opts) end

      refute error.message =~ "s3cret"
    end

    error = assert_raise ArgumentError, fn -> Redis.start_link("redis://:s3cret@h") end
    assert error.message =~ "expects a keyword list of options, got a string"
    refute error.message =~ "s3cret"
  end

  test "unknown per-call options raise in every call" do
    server = RedisServer.start!()
    {:ok, conn} = Redis.start_link(port: server.port, sync_connect: true)
    spec = {:get, "k", :f64}

    calls = [
      fn opts -> Redis.command(conn, ["PING"], opts) end,
      fn opts -> Redis.command!(conn, ["PING"], opts) end,
      fn opts -> Redis.pipeline(conn, [["PING"]], opts) end,
      fn opts -> Redis.pipeline!(conn, [["PING"]], opts) end,
      fn opts -> Redis.fetch(conn, spec, opts) end,
      fn opts -> Redis.fetch_async(conn, spec, opts) end,
      fn opts -> Redis.fetch_many(conn, [spec], opts) end
    ]

    for call <- calls do
      assert_raise ArgumentError,
                   ~r/unknown option :timout for an Analytics.Redis call; valid options: :timeout/,
                   fn -> call.(timout: 100) end

      assert_raise ArgumentError, ~r/keyword list/, fn -> call.([:timeout]) end
      assert_raise ArgumentError, ~r/keyword list/, fn -> call.(100) end
    end
  end

  test "timeout: :infinity on calls" do
    server = RedisServer.start!()
    {:ok, conn} = Redis.start_link(port: server.port, sync_connect: true)
    assert Redis.command(conn, ["PING"], timeout: :infinity) == {:ok, "PONG"}

    assert Redis.pipeline(conn, [["SET", "k", "1"], ["GET", "k"]], timeout: :infinity) ==
             {:ok, ["OK", "1"]}

    {:ok, 1} = Redis.command(conn, ["RPUSH", "l", "2.5"])
    assert {:ok, series} = Redis.fetch(conn, {:lrange, "l", 0, -1, :f64}, timeout: :infinity)
    assert Analytics.Series.to_list(series) == [2.5]
    assert {:ok, [_]} = Redis.fetch_many(conn, [{:lrange, "l", 0, -1, :f64}], timeout: :infinity)
    {:ok, ref} = Redis.fetch_async(conn, {:lrange, "l", 0, -1, :i64}, timeout: :infinity)
    assert_receive {:analytics_redis, ^ref, {:error, %Error{}}}, 5_000
    refute_receive {:analytics_redis, ^ref, _}, 200

    # A blocking command really waits past the default 5 s: an infinite
    # timeout is not a short one.
    {:ok, waiter} = Redis.start_link(port: server.port, sync_connect: true)
    task = Task.async(fn -> Redis.command(waiter, ["BLPOP", "q", "0"], timeout: :infinity) end)
    assert Task.yield(task, 6_000) == nil
    {:ok, 1} = Redis.command(conn, ["RPUSH", "q", "x"])
    assert Task.await(task) == {:ok, ["q", "x"]}
  end

  test "command! and pipeline! return values and raise errors" do
    server = RedisServer.start!()
    {:ok, conn} = Redis.start_link(port: server.port, sync_connect: true)
    assert Redis.command!(conn, ["SET", "s", "text"]) == "OK"
    assert Redis.command!(conn, ["GET", "s"]) == "text"

    assert_raise Error, ~r/ERR value is not an integer/, fn ->
      Redis.command!(conn, ["INCR", "s"])
    end

    assert [%Error{message: "ERR value is not an integer" <> _}, "text"] =
             Redis.pipeline!(conn, [["INCR", "s"], ["GET", "s"]])

    {:ok, slow} = Redis.start_link(port: server.port, sync_connect: true)

    assert_raise ConnectionError, "connection error: :timeout", fn ->
      Redis.command!(slow, ["BLPOP", "nothing", "0"], timeout: 50)
    end

    RedisServer.stop(server)
    assert_raise ConnectionError, fn -> Redis.pipeline!(conn, [["PING"]]) end
  end

  test "start_link connects in the background by default, and the first calls wait for it" do
    port = RedisServer.free_port()
    # Redis is down: the application still boots.
    {:ok, conn} = Redis.start_link(port: port)

    assert wait_until(
             fn ->
               Redis.command(conn, ["PING"]) ==
                 {:error,
                  %ConnectionError{
                    reason: :closed,
                    address: "127.0.0.1:#{port}",
                    cause: :econnrefused
                  }}
             end,
             2_000
           )

    RedisServer.restart!(%RedisServer{port: port, args: []})
    assert wait_until(fn -> Redis.command(conn, ["PING"]) == {:ok, "PONG"} end, 10_000)

    # Redis is up: calls made right after start_link wait for the first
    # connection instead of failing with :closed.
    for _ <- 1..20 do
      {:ok, fresh} = Redis.start_link(port: port)
      assert Redis.command(fresh, ["PING"]) == {:ok, "PONG"}
      Redis.stop(fresh)
    end
  end

  test "an auth failure in the background is the server's error, not :closed" do
    server = RedisServer.start!(["--requirepass", "right"])
    {:ok, conn} = Redis.start_link(port: server.port, password: "wrong")

    # Every call, the first ones (waiting for the first attempt) and later
    # ones (refused while it retries), says WRONGPASS.
    for _ <- 1..3 do
      assert {:error, %Error{message: "WRONGPASS" <> _}} = Redis.command(conn, ["PING"])
      Process.sleep(50)
    end

    assert {:error, %Error{message: "WRONGPASS" <> _}} = Redis.fetch(conn, {:get, "k", :f64})
  end

  test "start_link checks every option before starting anything" do
    for {opts, message} <- [
          {[name: "conn"], ~r/name must be an atom, \{:global, term\} or \{:via, module, term\}/},
          {[username: :alice], ~r/username must be a string, got: :alice/},
          {[database: 2_097_152], ~r/database must be an integer from 0 to 1048576/},
          {[timeout: :infinity], ~r/timeout must be an integer from 1 to/},
          {[port: 70_000], ~r/port must be an integer from 1 to 65535, got: 70000/},
          {[host: "a\0b"], ~r/host must not contain NUL bytes/},
          {[url: "redis://host/-1"], ~r/bad database/},
          {[url: "redis://host:6379?db=1"], ~r/port in a URL/},
          {[url: "rediss:/host"], ~r/expected a URL like redis:\/\//}
        ] do
      assert_raise ArgumentError, message, fn -> Redis.start_link(opts) end
    end
  end
end
