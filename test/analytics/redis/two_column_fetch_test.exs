defmodule Analytics.Redis.TwoColumnFetchTest do
  # Fetch specs that decode one reply into two columns (issue 17, "what users
  # asked for"): sorted-set members with their scores, and a hash's fields
  # with their values, checked against what was written with ZADD and HSET.
  use ExUnit.Case, async: true
  import Analytics.Eventually
  alias Analytics.{Cache, Redis, RedisServer, Series}
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

  test "Analytics.Cache refuses a two-column spec at start", %{server: server} do
    for spec <- [{:zrange_with_scores, "z", 0, -1, :i64}, {:hgetall, "h", :i64, :f64}] do
      assert_raise ArgumentError,
                   ~r/^Analytics.Cache stores one Series per entry, and #{Regex.escape(inspect(spec))} fetches two columns/,
                   fn ->
                     Cache.start_link(
                       name: :two_column_cache,
                       redis: [url: RedisServer.url(server)],
                       keys: [{:pairs, spec}]
                     )
                   end
    end

    refute Process.whereis(:two_column_cache)
  end
end
