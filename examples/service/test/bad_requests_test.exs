defmodule AnalyticsService.BadRequestsTest do
  use AnalyticsService.ServiceCase, async: false

  setup do
    start_service!(metrics: 5)
  end

  test "bad GETs get 4xx with a message naming the problem", %{port: port} do
    summary = "/metrics/cpu.web-01/summary"

    cases = [
      {"/metrics/nope/summary", 404, ~s(unknown metric "nope")},
      {"/nowhere", 404, "no such endpoint: /nowhere"},
      {"/metrics/cpu.web-01/everything", 404, "no such endpoint"},
      {"#{summary}?from=abc", 400, ~s(from must be an integer, got: "abc")},
      {"#{summary}?from=10&to=10", 400, "from (10) must be before to (10)"},
      {"#{summary}?reducers=mean,mode", 400, ~s(unknown reducer "mode")},
      {"#{summary}?reducers=p101", 400, "percentiles go from p0 to p100"},
      {"#{summary}?reducers=", 400, "at least one reducer"},
      {"#{summary}?reducers=#{Enum.join(List.duplicate("mean", 40), ",")}", 400, "at most 32"},
      {"/metrics/cpu.web-01/buckets", 400, "width (seconds per bucket) is required"},
      {"/metrics/cpu.web-01/buckets?width=0", 400, "width must be positive"},
      {"/metrics/cpu.web-01/buckets?width=1&from=0&to=9000000000", 400,
       "buckets is more than 100000"},
      {"/metrics/cpu.web-01/chart", 400, "width (pixels) is required"},
      {"/metrics/cpu.web-01/chart?width=0", 400, "width must be 1 to 10000 pixels, got: 0"},
      {"/metrics/cpu.web-01/chart?width=10001", 400, "width must be 1 to 10000 pixels"},
      {"/metrics/cpu.web-01/chart?width=wide", 400, ~s(width must be an integer, got: "wide")},
      {"/metrics/cpu.web-01/chart?width=100&from=5&to=5", 400, "from (5) must be before to (5)"},
      {"/metrics/nope/chart?width=100", 404, ~s(unknown metric "nope")},
      {"/metrics/cpu.web-01/groups", 400, "by (a grouping) is required"},
      {"/metrics/cpu.web-01/groups?by=zz_drop_table(value)", 400, "unknown name zz_drop_table"},
      {"/metrics/cpu.web-01/groups?by=rm_rf(value)", 400, "unknown name rm_rf"},
      {"/metrics/cpu.web-01/groups?by=#{URI.encode_www_form("value > 1")}", 400,
       "map needs an expression that computes a number"},
      {"/metrics/cpu.web-01/groups?by=#{URI.encode_www_form("log(0) + value")}", 400,
       "cannot cast -infinity"},
      {"/query", 405, "GET is not allowed on /query"},
      # A misspelt, repeated or out-of-range parameter is named, never
      # answered with defaults.
      {"#{summary}?reducer=p99", 400,
       ~s(unknown parameter "reducer"; this endpoint takes from, to, reducers)},
      {"#{summary}?bogus=1", 400, ~s(unknown parameter "bogus")},
      {"/metrics/cpu.web-01/chart?width=100&pixels=3", 400,
       ~s(unknown parameter "pixels"; this endpoint takes from, to, width)},
      {"#{summary}?from=1796138670&from=1", 400, ~s(parameter "from" is given more than once)},
      {"#{summary}?from=99999999999999999999999", 400,
       "from is out of range (a 64-bit integer), got: 99999999999999999999999"},
      {"#{summary}?to=-99999999999999999999999", 400, "to is out of range"},
      {"/metrics/cpu.web-01/buckets?width=99999999999999999999", 400, "width is out of range"}
    ]

    for {path, status, message} <- cases do
      assert {^status, %{"error" => error}} = get!(port, path), path
      assert error =~ message, "#{path}: #{error}"
    end

    still_serving(port)
  end

  test "bad queries get 4xx with a message naming the problem", %{port: port} do
    cases = [
      {"{not json", 400, "malformed JSON at byte"},
      {"[1, 2]", 400, "must be a JSON object"},
      {"", 400, "malformed JSON at byte 1: truncated_json"},
      {~s({"metric": "cpu.web-01"} trailing), 400, "invalid_trailing_data"},
      {%{"from" => 1}, 400, "metric is required"},
      {%{"metric" => "cpu.web-01", "extra" => 1}, 400,
       ~s(unknown parameter "extra"; this endpoint takes metric, from, to, map, where, group_by, reducers)},
      {%{"metric" => 7}, 400, "metric must be a name"},
      {%{"metric" => "ghost"}, 404, ~s(unknown metric "ghost")},
      {%{"metric" => "cpu.web-01", "map" => "value +"}, 400, "map: syntax error before"},
      {%{"metric" => "cpu.web-01", "map" => "System.halt()"}, 400, "map: unknown name System"},
      {%{"metric" => "cpu.web-01", "map" => "value ** value ** value ++ 1"}, 400,
       "map: Analytics.expr does not support"},
      {%{"metric" => "cpu.web-01", "map" => 42}, 400, "map must be an expression string"},
      {%{"metric" => "cpu.web-01", "where" => "value"}, 400, "where: must be a predicate"},
      {%{"metric" => "cpu.web-01", "where" => "latency > 1"}, 400, "unknown name latency"},
      {%{"metric" => "cpu.web-01", "where" => "is_nan > 1"}, 400, "where: unknown name is_nan"},
      {%{"metric" => "cpu.web-01", "reducers" => "mean"}, 400, nil},
      {%{"metric" => "cpu.web-01", "reducers" => [1]}, 400, "a reducer must be a name, got: 1"},
      {%{"metric" => "cpu.web-01", "reducers" => %{"a" => 1}}, 400, "reducers must be a list"},
      {%{"metric" => "cpu.web-01", "from" => 1.5}, 400, "from must be an integer, got: 1.5"},
      {%{"metric" => "cpu.web-01", "map" => String.duplicate("value + ", 600) <> "1"}, 400,
       "longer than 4096 bytes"}
    ]

    for {body, status, message} <- cases do
      {got, payload} = post!(port, "/query", body)

      if message do
        assert {^got, %{"error" => error}} = {status, payload}, inspect(body)
        assert error =~ message, "#{inspect(body)}: #{error}"
      else
        # A single name is accepted as a comma-separated string, as in GETs.
        assert got == 200
      end
    end

    still_serving(port)
  end

  test "a body over 64 KiB is refused with 413", %{port: port} do
    huge = :jiffy.encode(%{"metric" => "cpu.web-01", "padding" => String.duplicate("x", 100_000)})
    assert {413, %{"error" => error}} = post!(port, "/query", huge)
    assert error =~ "the limit is 65536"
    still_serving(port)
  end

  test "a malformed query string gets 400", %{port: port} do
    {:ok, socket} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false])

    :ok =
      :gen_tcp.send(
        socket,
        "GET /metrics/cpu.web-01/summary?from=%zz HTTP/1.1\r\nHost: x\r\n\r\n"
      )

    {:ok, response} = :gen_tcp.recv(socket, 0, 5_000)
    :gen_tcp.close(socket)
    assert response =~ "HTTP/1.1 400"
    still_serving(port)
  end

  test "hundreds of bad requests at once leave the service serving", %{port: port} do
    1..300
    |> Task.async_stream(
      fn i ->
        post!(port, "/query", ~s({"metric": "cpu.web-01", "map": "value #{rem(i, 7)} +"}))
      end,
      max_concurrency: 50,
      timeout: 30_000
    )
    |> Enum.each(fn {:ok, {status, _}} -> assert status == 400 end)

    still_serving(port)
  end
end
