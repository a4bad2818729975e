defmodule Analytics.Redis.MultiColumnFetchTest do
  # Fetch specs that decode one reply into several columns (issue 17, "what
  # users asked for"): sorted-set members with their scores, a hash's fields
  # with their values, and stream entries' ids with the fields asked for,
  # checked against what was written with ZADD, HSET and XADD.
  use ExUnit.Case, async: true
  import Analytics.Eventually
  alias Analytics.{Cache, HostileRedis, Redis, RedisServer, Series}
  alias Analytics.Redis.{ConnectionError, Error}

  setup context, do: RedisServer.with_connection(context)

  # Nanosecond timestamps beyond 2^53 (exact only as i64), each with a
  # distinct score, so ZRANGE's order is the score order.
  defp timestamps_with_scores(seed, n) do
    :rand.seed(:exsss, {seed, 2, 3})
    base = 1_700_000_000_000_000_000

    members = Enum.map(1..n, fn i -> base + i * 1_000_003 + :rand.uniform(1_000) end)
    scores = 1..n |> Enum.map(fn i -> i / 7 - 40 + :rand.uniform() / 1.0e6 end) |> Enum.shuffle()
    Enum.zip(members, scores)
  end

  defp zadd(conn, key, pairs) do
    args = Enum.flat_map(pairs, fn {member, score} -> [score, member] end)
    {:ok, _} = Redis.command(conn, ["ZADD", key | args])
    pairs |> Enum.sort_by(&elem(&1, 1)) |> Enum.unzip()
  end

  defp lists({first, second}), do: {Series.to_list(first), Series.to_list(second)}

  test "zrange_with_scores gives members and scores in rank order", %{conn: conn} do
    {members, scores} = zadd(conn, "ts", timestamps_with_scores(1, 500))

    assert {:ok, {m, s}} = Redis.fetch(conn, {:zrange_with_scores, "ts", 0, -1, :i64})
    assert {m.dtype, s.dtype} == {:i64, :f64}
    assert lists({m, s}) == {members, scores}

    assert {:ok, pair} = Redis.fetch(conn, {:zrange_with_scores, "ts", 10, 19, :i64})
    assert lists(pair) == {Enum.slice(members, 10..19), Enum.slice(scores, 10..19)}

    assert {:ok, pair} = Redis.fetch(conn, {:zrange_with_scores, "ts", -3, -1, :i64})
    assert lists(pair) == {Enum.take(members, -3), Enum.take(scores, -3)}

    # As :f64 the members are the nearest doubles, as Redis's text reads.
    assert {:ok, {m, _}} = Redis.fetch(conn, {:zrange_with_scores, "ts", 0, 4, :f64})
    assert Series.to_list(m) == Enum.map(Enum.take(members, 5), &(&1 * 1.0))

    # Redis's own spellings of scores: integers, infinities.
    {:ok, 3} = Redis.command(conn, ~w(ZADD z +inf 30 -inf 10 5 +20))
    assert {:ok, pair} = Redis.fetch(conn, {:zrange_with_scores, "z", 0, -1, :i64})
    assert lists(pair) == {[10, 20, 30], [:neg_infinity, 5.0, :infinity]}

    assert {:ok, {m, s}} = Redis.fetch(conn, {:zrange_with_scores, "missing", 0, -1, :i64})
    assert {Series.size(m), Series.size(s)} == {0, 0}
  end

  test "hgetall gives fields and values that match what HSET wrote", %{conn: conn} do
    :rand.seed(:exsss, {7, 8, 9})
    written = Map.new(1..300, fn i -> {i * 97 - 5_000, :rand.normal() * 1.0e6} end)
    args = Enum.flat_map(written, fn {field, value} -> [field, value] end)
    {:ok, 300} = Redis.command(conn, ["HSET", "h" | args])

    assert {:ok, {fields, values}} = Redis.fetch(conn, {:hgetall, "h", :i64, :f64})
    assert {fields.dtype, values.dtype} == {:i64, :f64}
    assert Series.size(fields) == 300 and Series.size(values) == 300
    assert Map.new(Enum.zip(Series.to_list(fields), Series.to_list(values))) == written

    # The values line up with HVALS's, as HVALS decodes them.
    {:ok, hvals} = Redis.fetch(conn, {:hvals, "h", :f64})
    assert Series.to_list(values) == Series.to_list(hvals)

    {:ok, _} = Redis.command(conn, ~w(HSET counts 200 7 404 +2 500 -1))
    assert {:ok, pair} = Redis.fetch(conn, {:hgetall, "counts", :f64, :i64})
    assert lists(pair) == {[200.0, 404.0, 500.0], [7, 2, -1]}

    assert {:ok, {f, v}} = Redis.fetch(conn, {:hgetall, "missing", :i64, :i64})
    assert {Series.size(f), Series.size(v)} == {0, 0}
  end

  test "fetch_many puts each spec's result in its place; fetch_async answers a tuple",
       %{conn: conn} do
    {members, scores} = zadd(conn, "ts", timestamps_with_scores(2, 50))
    {:ok, _} = Redis.command(conn, ~w(RPUSH l 1 2 3))
    {:ok, _} = Redis.command(conn, ~w(HSET h 1 10 2 20))
    {:ok, "OK"} = Redis.command(conn, ~w(SET a_string x))

    assert {:ok, [l, zpair, hpair, hvals, scores_only, %Error{message: wrong}]} =
             Redis.fetch_many(conn, [
               {:lrange, "l", 0, -1, :i64},
               {:zrange_with_scores, "ts", 0, -1, :i64},
               {:hgetall, "h", :i64, :i64},
               {:hvals, "h", :i64},
               {:zrange_scores, "ts", 0, -1},
               {:hgetall, "a_string", :i64, :i64}
             ])

    assert Series.to_list(l) == [1, 2, 3]
    assert lists(zpair) == {members, scores}
    assert lists(hpair) == {[1, 2], [10, 20]}
    assert Series.to_list(hvals) == [10, 20]
    assert Series.to_list(scores_only) == scores

    assert wrong =~
             ~r/^WRONGTYPE .* \(key a_string\), fetching {:hgetall, "a_string", :i64, :i64}$/

    {:ok, ref} = Redis.fetch_async(conn, {:hgetall, "h", :i64, :f64})
    assert_receive {:analytics_redis, ^ref, {:ok, pair}}, 5_000
    assert lists(pair) == {[1, 2], [10.0, 20.0]}
    refute_receive {:analytics_redis, ^ref, _}, 200
  end

  test "a bad member, score, field or value is named with its key and the spec", %{conn: conn} do
    {:ok, _} = Redis.command(conn, ~w(ZADD z 1 100 2 abc 3 300))

    assert Redis.fetch(conn, {:zrange_with_scores, "z", 0, -1, :i64}) ==
             {:error,
              %Error{
                message:
                  "the member at rank 1 of key z is not an i64: abc, " <>
                    ~s(fetching {:zrange_with_scores, "z", 0, -1, :i64})
              }}

    assert {:error, %Error{message: "the member at rank -2 of key z is not a number: abc, " <> _}} =
             Redis.fetch(conn, {:zrange_with_scores, "z", -2, -1, :f64})

    {:ok, _} = Redis.command(conn, ~w(HSET h 1 10 2 x))

    assert {:error,
            %Error{message: "the value of field 2 of key h is not an i64: x, fetching " <> _}} =
             Redis.fetch(conn, {:hgetall, "h", :i64, :i64})

    {:ok, _} = Redis.command(conn, ~w(HSET fields f 1))

    assert {:error,
            %Error{message: "a field name of key fields is not an i64: f, fetching " <> _}} =
             Redis.fetch(conn, {:hgetall, "fields", :i64, :f64})

    {:ok, "OK"} = Redis.command(conn, ~w(SET s 1))

    assert {:error, %Error{message: message}} =
             Redis.fetch(conn, {:zrange_with_scores, "s", 0, -1, :i64})

    assert message =~
             ~r/^WRONGTYPE .* \(key s\), fetching {:zrange_with_scores, "s", 0, -1, :i64}$/

    for bad <- [
          {:zrange_with_scores, "z", 0, -1},
          {:zrange_with_scores, "z", 0, -1, :u8},
          {:zrange_with_scores, "z", 0.0, -1, :i64},
          {:hgetall, "h", :i64},
          {:hgetall, :h, :i64, :f64},
          {:hgetall, "h", :i64, "f64"}
        ] do
      assert_raise ArgumentError,
                   ~r/^bad fetch spec: #{Regex.escape(inspect(bad))}; expected/,
                   fn ->
                     Redis.fetch(conn, bad)
                   end
    end

    # The connection stays in sync after all of that.
    assert {:ok, {member, score}} = Redis.fetch(conn, {:zrange_with_scores, "z", 0, 0, :i64})
    assert lists({member, score}) == {[100], [1.0]}
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
  end

  test "both columns count against max_reply_bytes", %{server: server} do
    {:ok, conn} =
      Redis.start_link(
        url: RedisServer.url(server),
        max_reply_bytes: 1_000_000,
        sync_connect: true
      )

    # 60,000 pairs are 120,000 numbers: 960 kB fits; 70,000 pairs (1.12 MB) do not.
    for {key, n} <- [{"fits", 60_000}, {"big", 70_000}] do
      {:ok, ^n} = Redis.command(conn, ["ZADD", key | Enum.flat_map(1..n, &[&1, &1])])
      {:ok, ^n} = Redis.command(conn, ["HSET", "h" <> key | Enum.flat_map(1..n, &[&1, &1])])
    end

    assert {:ok, {m, s}} = Redis.fetch(conn, {:zrange_with_scores, "fits", 0, -1, :i64})
    assert Series.size(m) == 60_000 and Series.at(s, 59_999) == 60_000.0
    assert {:ok, {f, _}} = Redis.fetch(conn, {:hgetall, "hfits", :i64, :i64})
    assert Series.size(f) == 60_000

    for spec <- [{:zrange_with_scores, "big", 0, -1, :i64}, {:hgetall, "hbig", :i64, :i64}] do
      assert Redis.fetch(conn, spec) == {:error, %ConnectionError{reason: :reply_too_large}}
      # The connection reconnects after a reply that was too large.
      assert wait_until(fn -> Redis.command(conn, ["PING"], timeout: 1_000) == {:ok, "PONG"} end)
    end
  end

  # Entries with explicit ids: some share a millisecond, some lack a field,
  # some have fields not asked for.
  defp xadd_entries(conn, key, seed, n) do
    :rand.seed(:exsss, {seed, 5, 6})

    entries =
      Enum.map(1..n, fn i ->
        ms = 1_700_000_000_000 + div(i, 3) * 250
        id = "#{ms}-#{rem(i, 3)}"
        temp = if rem(i, 7) == 0, do: nil, else: Float.round(:rand.normal() * 10, 3)
        {id, ms, temp, i}
      end)

    commands =
      for {id, _ms, temp, i} <- entries do
        fields = if temp, do: ["temp", temp], else: []
        ["XADD", key, id | fields ++ ["count", i, "note", "n#{i}"]]
      end

    {:ok, _} = Redis.pipeline(conn, commands)
    entries
  end

  test "xrange gives the ids' milliseconds and a column per field asked for", %{conn: conn} do
    entries = xadd_entries(conn, "s", 3, 600)

    assert {:ok, {ids, temp, count}} =
             Redis.fetch(conn, {:xrange, "s", "-", "+", ["temp", "count"], :f64})

    assert {ids.dtype, temp.dtype, count.dtype} == {:i64, :f64, :f64}
    assert Series.to_list(ids) == Enum.map(entries, &elem(&1, 1))
    assert Series.to_list(temp) == Enum.map(entries, &(elem(&1, 2) || :nan))
    assert Series.to_list(count) == Enum.map(entries, &(elem(&1, 3) * 1.0))

    # A millisecond as a bound takes every entry of it, as Redis does.
    {_, ms, _, _} = Enum.at(entries, 30)
    assert {:ok, {ids, count}} = Redis.fetch(conn, {:xrange, "s", ms, ms, ["count"], :i64})
    expected = Enum.filter(entries, &(elem(&1, 1) == ms))
    assert Series.to_list(ids) == Enum.map(expected, &elem(&1, 1))
    assert Series.to_list(count) == Enum.map(expected, &elem(&1, 3))

    # An exclusive start, as Redis writes it.
    {first_id, _, _, _} = hd(entries)

    assert {:ok, {ids, _}} =
             Redis.fetch(conn, {:xrange, "s", "(" <> first_id, "+", ["count"], :i64})

    assert Series.size(ids) == 599

    assert {:ok, {ids, a, b}} =
             Redis.fetch(conn, {:xrange, "missing", "-", "+", ["a", "b"], :i64})

    assert Enum.map([ids, a, b], &Series.size/1) == [0, 0, 0]
  end

  test "xrange errors name the entry, the field, the key and the spec", %{conn: conn} do
    {:ok, _} =
      Redis.pipeline(conn, [
        ~w(XADD s 1-1 temp 20 note x),
        ~w(XADD s 2-0 note y),
        ~w(XADD t 1-1 temp hot)
      ])

    assert Redis.fetch(conn, {:xrange, "s", "-", "+", ["temp"], :i64}) ==
             {:error,
              %Error{
                message:
                  "entry 2-0 of key s has no field temp, and :i64 has no NaN, " <>
                    ~s(fetching {:xrange, "s", "-", "+", ["temp"], :i64})
              }}

    assert {:ok, {_, temp}} = Redis.fetch(conn, {:xrange, "s", "-", "+", ["temp"], :f64})
    assert Series.to_list(temp) == [20.0, :nan]

    assert {:error,
            %Error{
              message: "the value of field temp in entry 1-1 of key t is not a number: hot, " <> _
            }} = Redis.fetch(conn, {:xrange, "t", "-", "+", ["temp"], :f64})

    assert {:error, %Error{message: message}} =
             Redis.fetch(conn, {:xrange, "s", "x", "+", ["temp"], :f64})

    assert message =~ ~r/^ERR Invalid stream ID .* \(key s\), fetching {:xrange, "s", "x"/

    {:ok, _} = Redis.command(conn, ~w(RPUSH l 1))

    assert {:error, %Error{message: "WRONGTYPE " <> _ = message}} =
             Redis.fetch(conn, {:xrange, "l", "-", "+", ["a"], :f64})

    assert message =~ ~r/\(key l\), fetching {:xrange, "l", "-", "\+", \["a"\], :f64}$/

    for bad <- [
          {:xrange, "s", "-", "+", [], :f64},
          {:xrange, "s", "-", "+", ["a", "a"], :f64},
          {:xrange, "s", "-", "+", [:a], :f64},
          {:xrange, "s", 1.5, "+", ["a"], :f64},
          {:xrange, "s", "-", "+", "a", :f64},
          {:xrange, "s", "-", "+", ["a"]}
        ] do
      assert_raise ArgumentError,
                   ~r/^bad fetch spec: #{Regex.escape(inspect(bad))}; expected/,
                   fn ->
                     Redis.fetch(conn, bad)
                   end
    end

    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
  end

  test "xrange in fetch_many and fetch_async; its columns count against max_reply_bytes",
       %{server: server} do
    {:ok, conn} =
      Redis.start_link(
        url: RedisServer.url(server),
        max_reply_bytes: 1_000_000,
        sync_connect: true
      )

    # Three columns of 8 bytes: 40,000 entries are 960 kB, 45,000 are 1.08 MB.
    for {key, n} <- [{"fits", 40_000}, {"big", 45_000}] do
      {:ok, _} =
        Redis.pipeline(conn, Enum.map(1..n, &["XADD", key, "#{&1}-0", "a", &1, "b", -&1]))
    end

    {:ok, _} = Redis.command(conn, ~w(HSET h 1 2))

    assert {:ok, [{ids, a, b}, {f, v}]} =
             Redis.fetch_many(conn, [
               {:xrange, "fits", "-", "+", ["a", "b"], :i64},
               {:hgetall, "h", :i64, :i64}
             ])

    assert Series.size(ids) == 40_000

    assert {Series.at(ids, 39_999), Series.at(a, 39_999), Series.at(b, 39_999)} ==
             {40_000, 40_000, -40_000}

    assert {Series.to_list(f), Series.to_list(v)} == {[1], [2]}

    {:ok, ref} = Redis.fetch_async(conn, {:xrange, "fits", 5, 6, ["b"], :f64})
    assert_receive {:analytics_redis, ^ref, {:ok, {ids, b}}}, 5_000
    assert {Series.to_list(ids), Series.to_list(b)} == {[5, 6], [-5.0, -6.0]}
    refute_receive {:analytics_redis, ^ref, _}, 200

    assert Redis.fetch(conn, {:xrange, "big", "-", "+", ["a", "b"], :i64}) ==
             {:error, %ConnectionError{reason: :reply_too_large}}

    assert wait_until(fn -> Redis.command(conn, ["PING"], timeout: 1_000) == {:ok, "PONG"} end)
  end

  test "replies no Redis sends (odd pairs, malformed entries) are errors in place; the connection stays in sync" do
    server = HostileRedis.start!({:reply, "+PONG\r\n"})
    on_exit(fn -> HostileRedis.stop(server) end)
    {:ok, conn} = Redis.start_link(url: HostileRedis.url(server), sync_connect: true)

    cases = [
      {"*3\r\n:1\r\n:2\r\n:3\r\n", {:zrange_with_scores, "z", 0, -1, :i64},
       "key z gave an odd number of elements (3), not member-score pairs"},
      {"*1\r\n$1\r\n7\r\n", {:hgetall, "h", :i64, :i64},
       "key h gave an odd number of elements (1), not field-value pairs"},
      {"*1\r\n*3\r\n$3\r\n1-0\r\n*0\r\n:1\r\n", {:xrange, "s", "-", "+", ["a"], :f64},
       "entry 0 (from 0, in reply order) of key s is not [id, [field, value, ...]]"},
      {"*1\r\n*2\r\n$2\r\nid\r\n*0\r\n", {:xrange, "s", "-", "+", ["a"], :f64},
       "entry id id of key s is not <ms>-<seq>"}
    ]

    for {wire, spec, message} <- cases do
      HostileRedis.set_mode(server, {:reply, wire})

      assert Redis.fetch(conn, spec) ==
               {:error, %Error{message: message <> ", fetching " <> inspect(spec)}}
    end

    # Integers where text is expected decode too (RESP allows them).
    HostileRedis.set_mode(
      server,
      {:reply, "*1\r\n*2\r\n$3\r\n5-0\r\n*4\r\n$1\r\na\r\n:9\r\n:1\r\n:8\r\n"}
    )

    assert {:ok, {ids, a, one}} = Redis.fetch(conn, {:xrange, "s", "-", "+", ["a", "1"], :i64})
    assert {Series.to_list(ids), Series.to_list(a), Series.to_list(one)} == {[5], [9], [8]}

    HostileRedis.set_mode(server, {:reply, "+PONG\r\n"})
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
  end

  test "Analytics.Cache refuses a spec of several columns at start", %{server: server} do
    for spec <- [
          {:zrange_with_scores, "z", 0, -1, :i64},
          {:hgetall, "h", :i64, :f64},
          {:xrange, "s", "-", "+", ["a"], :f64}
        ] do
      assert_raise ArgumentError,
                   ~r/^Analytics.Cache stores one Series per entry, and #{Regex.escape(inspect(spec))} fetches several columns/,
                   fn ->
                     Cache.start_link(
                       name: :multi_column_cache,
                       redis: [url: RedisServer.url(server)],
                       keys: [{:pairs, spec}]
                     )
                   end
    end

    refute Process.whereis(:multi_column_cache)
  end
end
