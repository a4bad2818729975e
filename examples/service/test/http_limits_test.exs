defmodule AnalyticsService.HttpLimitsTest do
  # The HTTP server under attack, through raw sockets, with its limits
  # lowered so that each attack shows in a second or two.
  use AnalyticsService.ServiceCase, async: false
  import ExUnit.CaptureLog

  @limits [
    max_connections: 20,
    header_timeout: 1_000,
    body_timeout: 1_000,
    send_timeout: 1_000
  ]

  setup context do
    start_service!(metrics: 5, http: Map.get(context, :http, @limits))
  end

  defp connect(port, opts \\ []) do
    {:ok, socket} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false] ++ opts)
    socket
  end

  # Everything until the server closes: {bytes, how it ended}.
  defp read_all(socket, timeout, acc \\ []) do
    case :gen_tcp.recv(socket, 0, timeout) do
      {:ok, data} -> read_all(socket, timeout, [acc | data])
      {:error, reason} -> {IO.iodata_to_binary(acc), reason}
    end
  end

  defp status_of(response) do
    [_, status] = Regex.run(~r/^HTTP\/1.1 (\d{3}) /, response)
    String.to_integer(status)
  end

  defp body_of(response) do
    [_head, body] = String.split(response, "\r\n\r\n", parts: 2)
    :jiffy.decode(body, [:return_maps])
  end

  test "the service listens on the fixed port it was given, with nodelay", %{port: port} do
    {:ok, listening} = :gen_tcp.connect({127, 0, 0, 1}, port, [])
    :gen_tcp.close(listening)
    # Twelve keep-alive requests on one connection: without nodelay each
    # answer could wait for a delayed ACK, but only correctness is checked.
    socket = connect(port)

    for _ <- 1..12 do
      :ok = :gen_tcp.send(socket, "GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
      {:ok, response} = :gen_tcp.recv(socket, 0, 5_000)
      assert status_of(response) == 200
    end

    :gen_tcp.close(socket)
  end

  test "a request line over 8 KiB gets 414 before the rest is read", %{port: port} do
    socket = connect(port)
    long = "GET /metrics/cpu.web-01/summary?reducers=" <> String.duplicate("count,", 200_000)
    # The server answers and stops reading long before 1.2 MB are sent.
    _ = :gen_tcp.send(socket, long)
    {response, _closed} = read_all(socket, 5_000)
    assert status_of(response) == 414
    assert body_of(response)["error"] =~ "the request line is over 8192 bytes"
    still_serving(port)
  end

  test "more than 64 query parameters get 400", %{port: port} do
    query = Enum.map_join(1..65, "&", &"p#{&1}=1")
    assert {400, %{"error" => error}} = get!(port, "/metrics/cpu.web-01/summary?" <> query)
    assert error =~ "at most 64 query parameters"
    # 64 pass the limit and reach the endpoint, which names the first it
    # does not take.
    query = Enum.map_join(1..63, "&", &"p#{&1}=1")

    assert {400, %{"error" => error}} =
             get!(port, "/metrics/cpu.web-01/summary?reducers=count&" <> query)

    assert error =~ ~s(unknown parameter "p1")
  end

  test "a head over 16 KiB gets 431", %{port: port} do
    socket = connect(port)
    headers = for i <- 1..400, do: "x-padding-#{i}: #{String.duplicate("y", 40)}\r\n"
    _ = :gen_tcp.send(socket, ["GET /health HTTP/1.1\r\n", headers, "\r\n"])
    {response, _closed} = read_all(socket, 5_000)
    assert status_of(response) == 431
  end

  test "the head limit counts every byte up to the blank line, in one read or many", %{
    port: port
  } do
    line = "GET /health HTTP/1.1\r\n"
    # Padded to exactly 16,384 bytes with its blank line: allowed. One byte
    # more is 431, although it arrives whole in a single packet.
    pad = fn size ->
      "x-pad: " <> String.duplicate("y", size - byte_size(line) - 7 - 4) <> "\r\n\r\n"
    end

    for {size, status} <- [{16_384, 200}, {16_385, 431}] do
      head = line <> pad.(size)
      assert byte_size(head) == size
      socket = connect(port)
      :ok = :gen_tcp.send(socket, head)
      {:ok, response} = :gen_tcp.recv(socket, 0, 5_000)
      assert status_of(response) == status, "a #{size}-byte head"
      :gen_tcp.close(socket)
    end
  end

  @tag http: Keyword.merge(@limits, max_requests: 1, queue_timeout: 60_000)
  test "with one turn, concurrent requests take turns and each gets its answer", %{
    port: port,
    names: names
  } do
    paths = for name <- names ++ names, do: "/metrics/#{name}/summary?reducers=count,max"
    answers = paths |> Enum.map(&Task.async(fn -> get!(port, &1) end)) |> Task.await_many(60_000)

    for {path, answer} <- Enum.zip(paths, answers) do
      assert {200, %{"rows" => rows, "result" => %{"max" => max}}} = answer
      assert rows == points()
      assert {200, %{"result" => %{"max" => ^max}}} = get!(port, path)
    end
  end

  test "HEAD answers GET's status and headers without the body", %{port: port} do
    socket = connect(port)

    for path <- ["/health", "/metrics/cpu.web-01/summary?reducers=count", "/nowhere"] do
      :ok = :gen_tcp.send(socket, "GET #{path} HTTP/1.1\r\nhost: x\r\n\r\n")
      {:ok, get} = :gen_tcp.recv(socket, 0, 5_000)
      :ok = :gen_tcp.send(socket, "HEAD #{path} HTTP/1.1\r\nhost: x\r\n\r\n")
      # The whole HEAD answer is its head: the next request on the same
      # connection is answered right after it.
      :ok = :gen_tcp.send(socket, "GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
      {head, _} = read_until_two_answers(socket, "")
      [get_head, _body] = String.split(get, "\r\n\r\n", parts: 2)
      assert head == get_head <> "\r\n\r\n", path
    end

    :gen_tcp.close(socket)
  end

  # The bytes of two answers to HEAD then GET /health: {HEAD's, the rest}.
  defp read_until_two_answers(socket, acc) do
    case String.split(acc, "\r\n\r\n", parts: 3) do
      [head, second_head, body] when body != "" ->
        {head <> "\r\n\r\n", second_head <> "\r\n\r\n" <> body}

      _ ->
        {:ok, data} = :gen_tcp.recv(socket, 0, 5_000)
        read_until_two_answers(socket, acc <> data)
    end
  end

  test "a head sent a line at a time is cut off at the header deadline", %{port: port} do
    socket = connect(port)
    :ok = :gen_tcp.send(socket, "GET /health HTTP/1.1\r\n")
    started = System.monotonic_time(:millisecond)

    # A header line every 200 ms, as a slowloris client does, until the
    # server answers 408 and closes.
    result =
      Enum.reduce_while(1..100, nil, fn i, nil ->
        case :gen_tcp.recv(socket, 0, 200) do
          {:ok, data} -> {:halt, data <> elem(read_all(socket, 2_000), 0)}
          {:error, :timeout} -> {:cont, :gen_tcp.send(socket, "x-slow-#{i}: 1\r\n") && nil}
          {:error, :closed} -> {:halt, ""}
        end
      end)

    assert status_of(result) == 408
    assert body_of(result)["error"] =~ "the request head took longer than 1000 ms"
    # Loose: the deadline is 1 s; 20 s would mean there is none.
    assert System.monotonic_time(:millisecond) - started < 20_000
  end

  test "half a body is cut off at the body deadline", %{port: port} do
    socket = connect(port)

    :ok =
      :gen_tcp.send(
        socket,
        "POST /query HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"metric\":"
      )

    {response, _closed} = read_all(socket, 20_000)
    assert status_of(response) == 408
    assert body_of(response)["error"] =~ "the request body took longer than 1000 ms"
  end

  test "an idle connection is closed at the header deadline, without an answer", %{port: port} do
    socket = connect(port)
    assert {"", :closed} = read_all(socket, 20_000)
  end

  test "a content-length over 64 KiB gets 413 without the body being read", %{port: port} do
    socket = connect(port)

    :ok =
      :gen_tcp.send(socket, "POST /query HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n")

    {response, _closed} = read_all(socket, 5_000)
    assert status_of(response) == 413
    assert body_of(response)["error"] =~ "the request body is 100000 bytes; the limit is 65536"
  end

  test "a chunked body over 64 KiB gets 413; a chunked body under it is served", %{port: port} do
    chunk = String.duplicate("x", 10_000)
    socket = connect(port)

    :ok =
      :gen_tcp.send(
        socket,
        "POST /query HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
      )

    for _ <- 1..7, do: :gen_tcp.send(socket, ["2710\r\n", chunk, "\r\n"])
    {response, _closed} = read_all(socket, 5_000)
    assert status_of(response) == 413
    assert body_of(response)["error"] =~ "the limit is 65536"

    body = ~s({"metric": "cpu.web-01", "reducers": ["count"]})
    {first, second} = String.split_at(body, 10)
    socket = connect(port)

    :ok =
      :gen_tcp.send(socket, [
        "POST /query HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        Integer.to_string(byte_size(first), 16),
        "\r\n",
        first,
        "\r\n",
        Integer.to_string(byte_size(second), 16),
        ";ext=1\r\n",
        second,
        "\r\n0\r\n\r\n"
      ])

    {response, :closed} = read_all(socket, 5_000)
    assert status_of(response) == 200
    assert body_of(response) == %{"rows" => 20_000, "result" => %{"count" => 20_000}}
  end

  test "expect: 100-continue is answered before the body is sent", %{port: port} do
    body = ~s({"metric": "cpu.web-01", "reducers": ["count"]})
    socket = connect(port)

    :ok =
      :gen_tcp.send(
        socket,
        "POST /query HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: #{byte_size(body)}\r\n\r\n"
      )

    assert {:ok, "HTTP/1.1 100 Continue\r\n\r\n"} = :gen_tcp.recv(socket, 0, 5_000)
    :ok = :gen_tcp.send(socket, body)
    {:ok, response} = :gen_tcp.recv(socket, 0, 5_000)
    assert status_of(response) == 200
  end

  @tag http: [max_connections: 20, header_timeout: 60_000]
  test "slow clients filling the connection cap do not keep real clients out", %{port: port} do
    # Twice the cap, each sending a header line now and then and never
    # finishing its head; the header deadline (60 s) does not come into it.
    slow =
      for i <- 1..40 do
        socket = connect(port)
        :ok = :gen_tcp.send(socket, "GET /health HTTP/1.1\r\nx-slow-#{i}: 1\r\n")
        socket
      end

    for _round <- 1..3 do
      for socket <- slow, do: :gen_tcp.send(socket, "x-more: 1\r\n")

      for _ <- 1..10 do
        assert {200, %{"status" => "ok"}} = get!(port, "/health")
      end
    end

    # The oldest slow connections gave way: at least the 20 over the cap.
    closed = Enum.count(slow, &match?({_, :closed}, read_all(&1, 100)))
    assert closed >= 20
  end

  test "a client that stops reading is cut off after the send timeout", %{port: port, conn: conn} do
    # cpu.web-01 with 200,000 points: 100,000 buckets of two reducers are
    # about 4.7 MB of JSON, more than the socket buffers take (2.8 MB here).
    load!(conn, 1, 200_000)

    :ok = Analytics.Cache.refresh(AnalyticsService.cache())
    path = "/metrics/cpu.web-01/buckets?width=120&reducers=mean,sum"

    socket = connect(port, recbuf: 4_096)
    :ok = :gen_tcp.send(socket, "GET #{path} HTTP/1.1\r\nhost: x\r\n\r\n")
    # Once the answer starts coming, not reading for three send timeouts.
    {:ok, start} = :gen_tcp.recv(socket, 1, 60_000)
    Process.sleep(3_000)
    {rest, :closed} = read_all(socket, 5_000)
    response = start <> rest
    [head, body] = String.split(response, "\r\n\r\n", parts: 2)
    [_, length] = Regex.run(~r/content-length: (\d+)/, head)
    assert byte_size(body) < String.to_integer(length)
    assert {200, %{"status" => "ok"}} = get!(port, "/health")
  end

  test "refusals leave nothing in the log", %{port: port} do
    log =
      capture_log(fn ->
        socket = connect(port)
        _ = :gen_tcp.send(socket, "GET /" <> String.duplicate("a", 10_000) <> " HTTP/1.1\r\n\r\n")
        read_all(socket, 5_000)
        socket = connect(port)
        _ = :gen_tcp.send(socket, "BREW /pot HTTP/9.9\r\n\r\n")
        read_all(socket, 5_000)
        socket = connect(port)
        _ = :gen_tcp.send(socket, "POST /query HTTP/1.1\r\ncontent-length: zz\r\n\r\n")
        read_all(socket, 5_000)
      end)

    assert log == ""
    still_serving(port)
  end

  test "garbage heads get an answer or a close, nothing in the log, and serving goes on", %{
    port: port
  } do
    :rand.seed(:exsss, {17, 17, 17})

    pieces = [
      "GET",
      "POST",
      " ",
      "/",
      "?",
      "&",
      "=",
      "%",
      "%zz",
      ":",
      "\r\n",
      "\n",
      "\r",
      "\0",
      "HTTP/1.1",
      "HTTP/1.0",
      "HTTP/2",
      "content-length: ",
      "transfer-encoding: chunked",
      "expect: 100-continue",
      "connection: close",
      "-1",
      "99999999999999999999",
      "ff",
      "\xff\xfe",
      "é",
      "*",
      "http://h/x",
      "/metrics/cpu.web-01/summary",
      "/query",
      "{",
      "}"
    ]

    log =
      capture_log(fn ->
        for _ <- 1..150 do
          garbage = for _ <- 1..:rand.uniform(30), into: "", do: Enum.random(pieces)
          socket = connect(port)
          _ = :gen_tcp.send(socket, garbage <> "\r\n\r\n")
          {response, _} = read_all(socket, 5_000)
          :gen_tcp.close(socket)
          assert response == "" or response =~ ~r/^HTTP\/1.1 (\d{3}) /, inspect(garbage)
        end
      end)

    assert log == ""
    still_serving(port)
  end
end
