defmodule AnalyticsService.EndpointsTest do
  use AnalyticsService.ServiceCase, async: false
  import Analytics.Approx
  alias Analytics.Reference

  setup do
    start_service!()
  end

  defp in_range(ts, values, from, to) do
    ts |> Enum.zip(values) |> Enum.filter(fn {t, _} -> t >= from and t < to end)
  end

  test "health reports a fresh cache and live Redis", %{port: port, names: names} do
    assert {200, health} = get!(port, "/health")
    assert %{"status" => "ok", "redis" => "up", "metrics" => 10} = health
    assert %{"state" => "fresh", "entries" => 20, "last_error" => nil} = health["cache"]
    assert is_integer(health["cache"]["age_ms"])
    # By default a refresh is overdue only past the interval, twice the last
    # refresh's duration and 30 s: a large refresh is not taken for a hang.
    %{"last_refresh_ms" => took, "stale_after_ms" => stale_after} = health["cache"]
    assert is_integer(took) and took >= 0
    assert stale_after == 30_000 + 2 * took + 30_000
    assert length(names) == 10
  end

  test "metrics lists every metric with its points and span", %{
    port: port,
    conn: conn,
    names: names
  } do
    assert {200, %{"metrics" => metrics}} = get!(port, "/metrics")
    assert Enum.map(metrics, & &1["name"]) == Enum.sort(names)
    {ts, _} = reference_columns(conn, hd(metrics)["name"])
    assert hd(metrics)["points"] == points()
    assert {hd(metrics)["from"], hd(metrics)["to"]} == {hd(ts), List.last(ts)}
    # The loader's clock: one point a minute, up to its end time.
    assert List.last(ts) == 1_764_000_000
    assert hd(ts) == 1_764_000_000 - 60 * (points() - 1)
    assert Enum.uniq(for [a, b] <- Enum.chunk_every(ts, 2, 1, :discard), do: b - a) == [60]
  end

  test "summary over a time range matches pure Elixir", %{port: port, conn: conn, names: names} do
    for name <- names do
      {ts, values} = reference_columns(conn, name)
      from = Enum.at(ts, 1_234)
      to = Enum.at(ts, 15_000) + 1

      path =
        "/metrics/#{name}/summary?from=#{from}&to=#{to}&reducers=count,sum,mean,min,max,std,median,p99"

      assert {200, %{"rows" => rows, "result" => result}} = get!(port, path)
      window = for {_, x} <- in_range(ts, values, from, to), do: x
      assert rows == length(window) and rows == 15_000 - 1_234 + 1

      for {label, reducer} <- [
            {"count", :count},
            {"sum", :sum},
            {"mean", :mean},
            {"min", :min},
            {"max", :max},
            {"std", :standard_deviation},
            {"median", :median},
            {"p99", {:quantile, 0.99}}
          ] do
        assert_close(result[label], Reference.reduce(window, reducer), "#{name} #{label}", 1.0e-9)
      end
    end
  end

  test "summary defaults to the whole series and the usual reducers", %{
    port: port,
    names: [name | _]
  } do
    assert {200, %{"rows" => 20_000, "result" => result}} = get!(port, "/metrics/#{name}/summary")

    assert Map.keys(result) |> Enum.sort() ==
             Enum.sort(~w(count mean min max standard_deviation p50 p90 p99))

    assert {200, %{"rows" => 0, "result" => %{"count" => 0, "mean" => nil}}} =
             get!(port, "/metrics/#{name}/summary?from=0&to=1&reducers=count,mean")
  end

  test "buckets match a pure-Elixir group by bucket start", %{port: port, conn: conn} do
    name = "latency_ms.web-01"
    {ts, values} = reference_columns(conn, name)
    from = Enum.at(ts, 100)
    to = Enum.at(ts, 10_000)
    path = "/metrics/#{name}/buckets?from=#{from}&to=#{to}&width=3600&reducers=count,mean,max"
    assert {200, result} = get!(port, path)

    expected =
      in_range(ts, values, from, to)
      |> Enum.group_by(fn {t, _} -> div(t, 3600) * 3600 end, &elem(&1, 1))
      |> Enum.sort()

    assert result["buckets"] == Enum.map(expected, &elem(&1, 0))
    assert result["count"] == Enum.map(expected, &length(elem(&1, 1)))

    for {{_, group}, mean, max} <- Enum.zip([expected, result["mean"], result["max"]]) do
      assert_close(mean, Reference.reduce(group, :mean), "bucket mean")
      assert max == Enum.max(group)
    end
  end

  # M4 in pure Elixir: the first, lowest, highest and last point of each
  # of width equal slices of [first, last], in time order.
  defp m4(pairs, width, first, last) do
    pairs
    |> Enum.filter(fn {t, _} -> t >= first and t <= last end)
    |> Enum.with_index()
    |> Enum.chunk_by(fn {{t, _}, _} -> div((t - first) * width, last - first + 1) end)
    |> Enum.flat_map(fn slice ->
      [
        hd(slice),
        Enum.min_by(slice, fn {{_, x}, _} -> x end),
        Enum.max_by(slice, fn {{_, x}, _} -> x end),
        List.last(slice)
      ]
      |> Enum.uniq_by(&elem(&1, 1))
      |> Enum.sort_by(&elem(&1, 1))
      |> Enum.map(&elem(&1, 0))
    end)
  end

  test "chart answers the M4 points of a range for a pixel width", %{port: port, conn: conn} do
    name = "latency_ms.web-02"
    {ts, values} = reference_columns(conn, name)
    pairs = Enum.zip(ts, values)
    from = Enum.at(ts, 1_000) + 17
    to = Enum.at(ts, 18_000)

    for {query, width, first, last, rows} <- [
          {"from=#{from}&to=#{to}", 300, from, to - 1, 17_000 - 1},
          {"from=#{from}&to=#{to}", 7, from, to - 1, 17_000 - 1},
          {"", 1_200, hd(ts), List.last(ts), points()},
          {"from=#{from}", 640, from, List.last(ts), points() - 1_001}
        ] do
      path = "/metrics/#{name}/chart?#{query}&width=#{width}"
      assert {200, chart} = get!(port, path)
      assert %{"first" => ^first, "last" => ^last, "width" => ^width, "rows" => ^rows} = chart
      expected = m4(pairs, width, first, last)
      assert Enum.zip(chart["times"], chart["values"]) == expected, path
      assert length(expected) <= 4 * width and length(expected) > width
    end

    # Fewer points than pixels: every point.
    assert {200, %{"times" => times, "rows" => 3}} =
             get!(port, "/metrics/#{name}/chart?from=#{from}&to=#{from + 200}&width=500")

    assert times == Enum.filter(ts, &(&1 >= from and &1 < from + 200))

    assert {200, %{"times" => [], "values" => [], "rows" => 0, "first" => 0, "last" => 9}} =
             get!(port, "/metrics/#{name}/chart?from=0&to=10&width=100")
  end

  test "groups by hour of day, day of week and an expression", %{port: port, conn: conn} do
    name = "requests.web-01"
    {ts, values} = reference_columns(conn, name)

    for {by, key} <- [
          {"hour_of_day", &rem(div(&1, 3600), 24)},
          {"day_of_week", &rem(div(&1, 86400) + 3, 7)},
          {URI.encode_www_form("floor(value / 500)"), nil}
        ] do
      assert {200, result} = get!(port, "/metrics/#{name}/groups?by=#{by}&reducers=count,sum")
      pairs = Enum.zip(ts, values)

      groups =
        if key,
          do: Enum.group_by(pairs, fn {t, _} -> key.(t) end, &elem(&1, 1)),
          else: Enum.group_by(pairs, fn {_, x} -> floor(x / 500) end, &elem(&1, 1))

      expected = Enum.sort(groups)
      assert result["keys"] == Enum.map(expected, &elem(&1, 0)), by
      assert result["count"] == Enum.map(expected, &length(elem(&1, 1)))

      for {{_, g}, sum} <- Enum.zip(expected, result["sum"]),
          do: assert_close(sum, Enum.sum(g), by)
    end

    assert {200, %{"keys" => hours}} = get!(port, "/metrics/#{name}/groups?by=hour_of_day")
    assert hours == Enum.to_list(0..23)
  end

  test "a query maps, filters and reduces as the expressions say", %{port: port, conn: conn} do
    name = "latency_ms.web-02"
    {ts, values} = reference_columns(conn, name)
    from = Enum.at(ts, 500)

    query = %{
      "metric" => name,
      "from" => from,
      "map" => "value / 1000",
      "where" => "value > 40 and timestamp >= #{from + 3600}",
      "reducers" => ["count", "mean", "p90"]
    }

    assert {200, %{"result" => result, "rows" => rows}} = post!(port, "/query", query)
    assert rows == points() - 500

    kept =
      for {t, x} <- Enum.zip(ts, values), t >= from, x > 40 and t >= from + 3600, do: x / 1000

    assert result["count"] == length(kept) and length(kept) > 100
    assert_close(result["mean"], Reference.reduce(kept, :mean), "mean")
    assert_close(result["p90"], Reference.reduce(kept, {:quantile, 0.9}), "p90")

    grouped = %{
      "metric" => name,
      "map" => "value * 2",
      "group_by" => "hour_of_day",
      "reducers" => ["max"]
    }

    assert {200, %{"keys" => keys, "max" => maxes}} = post!(port, "/query", grouped)
    assert length(keys) == 24

    expected =
      Enum.zip(ts, values)
      |> Enum.group_by(fn {t, _} -> rem(div(t, 3600), 24) end, fn {_, x} -> x * 2 end)
      |> Enum.sort()
      |> Enum.map(fn {_, g} -> Enum.max(g) end)

    assert maxes == expected

    filtered = Map.put(grouped, "where", "value > 40")
    assert {200, %{"keys" => keys, "max" => maxes}} = post!(port, "/query", filtered)

    expected =
      for({t, x} <- Enum.zip(ts, values), x > 40, do: {t, x})
      |> Enum.group_by(fn {t, _} -> rem(div(t, 3600), 24) end, fn {_, x} -> x * 2 end)
      |> Enum.sort()

    assert keys == Enum.map(expected, &elem(&1, 0))
    assert maxes == Enum.map(expected, fn {_, g} -> Enum.max(g) end)
  end

  test "paths are percent-decoded, segment by segment", %{port: port} do
    assert {200, %{"rows" => rows}} = get!(port, "/metrics/cpu%2Eweb%2D01/summary?reducers=count")
    assert rows == points()
    # An encoded "/" stays inside its segment: a name no metric has.
    assert {404, %{"error" => "unknown metric \"cpu/web-01\""}} =
             get!(port, "/metrics/cpu%2Fweb-01/summary")

    # httpc refuses to send that one: a raw socket does.
    {:ok, socket} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false])
    :ok = :gen_tcp.send(socket, "GET /metrics/cpu%ZZ/summary HTTP/1.1\r\nhost: x\r\n\r\n")
    {:ok, response} = :gen_tcp.recv(socket, 0, 5_000)
    :gen_tcp.close(socket)
    assert response =~ ~r/^HTTP\/1.1 400 /
    assert response =~ ~s({"error":"malformed percent-encoding in the path"})
  end

  test "the Elixir backend agrees with the native one", %{server: server, names: [name | _]} do
    {:ok, _} =
      start_supervised(
        {AnalyticsService,
         name: ElixirService, redis: [url: Analytics.RedisServer.url(server)], backend: :elixir},
        id: ElixirService
      )

    :ok = Analytics.Cache.refresh(AnalyticsService.cache(ElixirService))

    path =
      "/metrics/#{name}/summary?reducers=count,sum,mean,min,max,std,median,p10&from=1763000000"

    assert {200, native} = get!(AnalyticsService.port(), path)
    assert {200, elixir} = get!(AnalyticsService.port(ElixirService), path)
    assert native["rows"] == elixir["rows"]

    for {label, value} <- native["result"],
        do: assert_close(elixir["result"][label], value, label, 1.0e-9)
  end
end
