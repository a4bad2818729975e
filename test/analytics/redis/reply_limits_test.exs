defmodule Analytics.Redis.ReplyLimitsTest do
  # The Redis client under attack (issue 17): replies too large once decoded,
  # replies that never end, and replies nobody waits for must neither grow
  # memory without bound nor hold the connection; every call still gets
  # exactly one answer.
  use ExUnit.Case, async: true
  import Analytics.Eventually
  alias Analytics.{HostileRedis, Redis, RedisServer, Series}
  alias Analytics.Redis.{ConnectionError, Error}

  defp hostile(mode, opts \\ []) do
    server = HostileRedis.start!(mode)
    on_exit(fn -> HostileRedis.stop(server) end)
    {:ok, conn} = Redis.start_link([url: HostileRedis.url(server)] ++ opts)
    {server, conn}
  end

  # Polls until the connection answers again (it reconnects with backoff).
  defp recovers(conn, server, tries \\ 400) do
    if server, do: HostileRedis.set_mode(server, {:reply, "+PONG\r\n"})

    case Redis.command(conn, ["PING"], timeout: 1_000) do
      {:ok, "PONG"} ->
        true

      {:error, %ConnectionError{}} when tries > 0 ->
        Process.sleep(25) && recovers(conn, nil, tries - 1)

      _ ->
        false
    end
  end

  # No second or late answer reaches the caller.
  defp no_more_answers, do: refute_receive({:analytics_redis, _, _}, 300)

  defp rss_mb do
    [_, kb] = Regex.run(~r/VmRSS:\s+(\d+)/, File.read!("/proc/self/status"))
    div(String.to_integer(kb), 1024)
  end

  test "an 8 MB array against a 1 MB limit is :reply_too_large; the next call succeeds" do
    {server, conn} =
      hostile({:reply, "*2000000\r\n" <> String.duplicate(":1\r\n", 2_000_000)},
        max_reply_bytes: 1_000_000
      )

    assert Redis.command(conn, ["LRANGE", "k", "0", "-1"]) ==
             {:error, %ConnectionError{reason: :reply_too_large}}

    assert {:error, %ConnectionError{reason: reason}} =
             Redis.fetch(conn, {:lrange, "k", 0, -1, :i64})

    # :closed while still reconnecting after the first refusal
    assert reason in [:reply_too_large, :closed]

    assert recovers(conn, server)
    no_more_answers()
  end

  test "an endless array is cut off at once, with memory bounded" do
    {server, conn} = hostile({:stream, "*2147483647\r\n", String.duplicate(":1\r\n", 100_000)})

    before = rss_mb()

    assert Redis.command(conn, ["LRANGE", "k", "0", "-1"], timeout: 30_000) ==
             {:error, %ConnectionError{reason: :reply_too_large}}

    assert rss_mb() - before < 300
    assert recovers(conn, server)
    no_more_answers()
  end

  test "big strings in a small declared array are charged as they arrive" do
    element = "$100000\r\n" <> String.duplicate("x", 100_000) <> "\r\n"
    {server, conn} = hostile({:stream, "*100000\r\n", element}, max_reply_bytes: 1_000_000)
    before = rss_mb()

    assert Redis.command(conn, ["LRANGE", "k", "0", "-1"], timeout: 30_000) ==
             {:error, %ConnectionError{reason: :reply_too_large}}

    assert rss_mb() - before < 300
    assert recovers(conn, server)
    no_more_answers()
  end

  test "a reply that never ends is cut off after its caller's timeout plus a bound" do
    {server, conn} = hostile({:trickle, "$1000000\r\n" <> String.duplicate("x", 1_000_000), 1})

    assert Redis.command(conn, ["GET", "k"], timeout: 200) ==
             {:error, %ConnectionError{reason: :timeout}}

    # Behind the endless reply, on the same connection: without the bound it
    # would wait its whole 30 s for a reply that is never read.
    {us, result} = :timer.tc(fn -> Redis.command(conn, ["PING"], timeout: 30_000) end)
    assert result == {:error, %ConnectionError{reason: :disconnected}}
    assert us < 20_000_000
    assert recovers(conn, server)
    no_more_answers()
  end

  test "replies for killed callers do not hold the connection" do
    # Each reply takes the server 10 s to send: 1,000 of them would keep the
    # connection for hours.
    {server, conn} = hostile({:trickle, "+" <> String.duplicate("x", 1_000) <> "\r\n", 10})

    callers =
      for _ <- 1..1_000,
          do: spawn(fn -> Redis.command(conn, ["GET", "k"], timeout: 600_000) end)

    engine = :persistent_term.get({Redis, conn})
    assert wait_until(fn -> Analytics.Native.redis_pending(engine) == 1_000 end, 10_000)
    Enum.each(callers, &Process.exit(&1, :kill))
    HostileRedis.set_mode(server, {:reply, "+PONG\r\n"})

    started = System.monotonic_time(:millisecond)
    assert recovers(conn, server)
    assert System.monotonic_time(:millisecond) - started < 20_000
    # The engine answers a caller before it counts the request done, so the
    # count may lag the PING's answer by a moment.
    assert wait_until(fn -> Analytics.Native.redis_pending(engine) == 0 end)
    no_more_answers()
  end

  describe "against redis-server" do
    setup context, do: RedisServer.with_connection(context)

    test "a 1M-element reply within the limit comes whole", %{conn: conn} do
      for chunk <- Enum.chunk_every(1..1_000_000, 100_000) do
        {:ok, _} = Redis.command(conn, ["RPUSH", "big" | Enum.map(chunk, &Integer.to_string/1)])
      end

      assert {:ok, list} = Redis.command(conn, ["LRANGE", "big", "0", "-1"], timeout: 60_000)
      assert length(list) == 1_000_000
      assert hd(list) == "1" and List.last(list) == "1000000"
      no_more_answers()
    end

    test "a reply over the limit is refused; the connection comes back", %{server: server} do
      {:ok, conn} = Redis.start_link(url: RedisServer.url(server), max_reply_bytes: 1_000_000)
      {:ok, _} = Redis.command(conn, ["RPUSH", "l" | Enum.map(1..100_000, &Integer.to_string/1)])

      assert Redis.command(conn, ["LRANGE", "l", "0", "-1"]) ==
               {:error, %ConnectionError{reason: :reply_too_large}}

      assert recovers(conn, nil)
      # The same numbers fit as a column (8 bytes each, 800 kB).
      assert {:ok, series} = Redis.fetch(conn, {:lrange, "l", 0, -1, :i64})
      assert Series.size(series) == 100_000
      no_more_answers()
    end

    test "WRONGTYPE names the key and the spec, in fetch and fetch_many", %{conn: conn} do
      {:ok, "OK"} = Redis.command(conn, ["SET", "a_string", "x"])
      {:ok, _} = Redis.command(conn, ["RPUSH", "a_list", "1"])

      assert {:error, %Error{message: message}} =
               Redis.fetch(conn, {:lrange, "a_string", 0, -1, :f64})

      assert message =~ ~r/^WRONGTYPE Operation against a key holding the wrong kind of value/
      assert message =~ "key a_string"
      assert message =~ ~s({:lrange, "a_string", 0, -1, :f64})

      assert {:ok, [%Series{}, %Error{message: message}]} =
               Redis.fetch_many(conn, [
                 {:lrange, "a_list", 0, -1, :f64},
                 {:hvals, "a_string", :i64}
               ])

      assert message =~ ~r/^WRONGTYPE .* \(key a_string\), fetching {:hvals, "a_string", :i64}$/

      # fetch_async has no spec to add, but names the key.
      {:ok, ref} = Redis.fetch_async(conn, {:zrange_scores, "a_string", 0, -1})
      assert_receive {:analytics_redis, ^ref, {:error, %Error{message: message}}}, 5_000
      assert message =~ ~r/^WRONGTYPE .* \(key a_string\)$/
      no_more_answers()
    end

    test "a Cache refresh that meets WRONGTYPE names the key and the spec", %{server: server} do
      {:ok, conn} = Redis.start_link(url: RedisServer.url(server), sync_connect: true)
      {:ok, "OK"} = Redis.command(conn, ["SET", "a_string", "x"])

      start_supervised!(
        {Analytics.Cache,
         name: WrongTypeCache,
         redis: [url: RedisServer.url(server)],
         keys: [{"series", {:lrange, "a_string", 0, -1, :f64}}]}
      )

      assert {:error, %Error{message: message}} = Analytics.Cache.refresh(WrongTypeCache)

      assert message =~
               ~r/^WRONGTYPE .* \(key a_string\), fetching {:lrange, "a_string", 0, -1, :f64}$/
    end

    test "numbers are read as Redis reads them; a bad one is named by its index",
         %{conn: conn} do
      {:ok, _} = Redis.command(conn, ["RPUSH", "signed", "+5", "+2.5", "+inf", "-inf", "1e3"])
      assert {:ok, floats} = Redis.fetch(conn, {:lrange, "signed", 0, -1, :f64})
      assert Series.to_list(floats) == [5.0, 2.5, :infinity, :neg_infinity, 1000.0]
      assert {:ok, ints} = Redis.fetch(conn, {:lrange, "signed", 0, 0, :i64})
      assert Series.to_list(ints) == [5]

      {:ok, _} = Redis.command(conn, ["RPUSH", "mixed", "0", "1", "2", "two", "4"])

      assert {:error, %Error{message: "list index 3 of key mixed is not a number: two" <> _}} =
               Redis.fetch(conn, {:lrange, "mixed", 1, -1, :f64})

      # Counted from the end, as Redis counts negative indexes.
      assert {:error, %Error{message: "list index -2 of key mixed is not an i64: two" <> _}} =
               Redis.fetch(conn, {:lrange, "mixed", -4, -1, :i64})

      {:ok, _} = Redis.command(conn, ["SET", "m2", "oops"])

      assert {:error, %Error{message: "the value of key m2 is not a number: oops" <> _}} =
               Redis.fetch(conn, {:mget, ["m1", "m2"], :f64})

      no_more_answers()
    end

    test "zrangebyscore fetches the scores in a score range", %{conn: conn} do
      {:ok, 5} = Redis.command(conn, ~w(ZADD z 1 a 2.5 b 3 c 10 d 20 e))
      assert {:ok, s} = Redis.fetch(conn, {:zrangebyscore, "z", 2, 10, :f64})
      assert Series.to_list(s) == [2.5, 3.0, 10.0]
      assert {:ok, s} = Redis.fetch(conn, {:zrangebyscore, "z", "(3", :infinity, :i64})
      assert Series.to_list(s) == [10, 20]
      assert {:ok, s} = Redis.fetch(conn, {:zrangebyscore, "z", :neg_infinity, 1.5, :f64})
      assert Series.to_list(s) == [1.0]
      assert {:ok, s} = Redis.fetch(conn, {:zrangebyscore, "missing", 0, 1, :f64})
      assert Series.size(s) == 0

      assert {:error,
              %Error{
                message: "element 1 (from 0, in reply order) of key z is not an i64: 2.5" <> _
              }} = Redis.fetch(conn, {:zrangebyscore, "z", 1, 3, :i64})

      assert {:error, %Error{message: "ERR min or max is not a float (key z), fetching " <> _}} =
               Redis.fetch(conn, {:zrangebyscore, "z", "x", 3, :f64})

      assert_raise ArgumentError, ~r/bad fetch spec: {:zrangebyscore, "z", :nope, 3, :f64}/, fn ->
        Redis.fetch(conn, {:zrangebyscore, "z", :nope, 3, :f64})
      end

      no_more_answers()
    end
  end
end
