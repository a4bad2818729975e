defmodule AnalyticsService.HttpConnection do
  @moduledoc """
  One HTTP/1.1 connection of `AnalyticsService.HttpServer`: reads requests
  (keep-alive, `content-length` and chunked bodies, `expect:
  100-continue`), answers each with `AnalyticsService.Router`, and
  enforces the server's limits. Answers are JSON, but for the dashboard's
  page and assets (`AnalyticsService.Dashboard`). Every read has a deadline, every refusal
  an answer (`{"error": message}` with 408, 413, 414, 431 or 400) after
  which the connection closes, and nothing is logged for them.

  While it waits for a request, the connection is in the server's waiting
  table, where the server may take it to make room for a new connection
  (then it is killed); it takes itself out once a whole request is read.
  """
  require Logger

  alias AnalyticsService.{JSON, Router, Turns}

  @json "application/json"
  @write_piece 65_536
  # A chunk-size line is a hex number and optional extensions.
  @max_chunk_line 1_024
  @reasons %{
    100 => "Continue",
    200 => "OK",
    400 => "Bad Request",
    404 => "Not Found",
    405 => "Method Not Allowed",
    408 => "Request Timeout",
    413 => "Content Too Large",
    414 => "URI Too Long",
    431 => "Request Header Fields Too Large",
    500 => "Internal Server Error",
    501 => "Not Implemented",
    503 => "Service Unavailable",
    505 => "HTTP Version Not Supported"
  }

  defmodule Refusal do
    @moduledoc false
    # A request the connection answers itself, then closes.
    defexception [:status, :message]
  end

  @doc false
  # The server spawns this, then hands it the socket.
  def serve(config) do
    receive do
      {:socket, socket} -> loop(socket, config, "")
    end
  end

  defp loop(socket, config, buffer) do
    case serve_one(socket, config, buffer) do
      {:next, rest} -> loop(socket, config, rest)
      :done -> :gen_tcp.close(socket)
      :refused -> linger_close(socket)
    end
  end

  # After a refusal the client may still be sending (the rest of a long
  # URL or a body): closing with unread bytes would reset the connection,
  # and the client could lose the answer. So the write side closes first,
  # and what still comes is read and dropped, for a bounded time.
  defp linger_close(socket) do
    :gen_tcp.shutdown(socket, :write)
    deadline = System.monotonic_time(:millisecond) + 1_000
    drain(socket, deadline, 1_048_576)
  end

  defp drain(socket, deadline, left) when left > 0 do
    case recv(socket, deadline) do
      {:ok, data} -> drain(socket, deadline, left - byte_size(data))
      _timeout_or_closed -> :gen_tcp.close(socket)
    end
  end

  defp drain(socket, _deadline, _left), do: :gen_tcp.close(socket)

  # One request and its answer: {:next, bytes after it} to go on.
  defp serve_one(socket, config, buffer) do
    key = {System.monotonic_time(), self()}
    :ets.insert(config.waiting, {key})

    case read_request(socket, config, buffer) do
      {:ok, request, keep_alive?, rest} ->
        # Gone from the table: the server has picked this connection to
        # make room, and is killing it.
        if :ets.take(config.waiting, key) == [], do: exit(:normal)
        {status, type, body} = answer(request, config)
        # HEAD is GET without the body: the same status and headers.
        body = if request.method == "HEAD", do: {:head_only, body}, else: body

        case send_response(socket, status, type, body, keep_alive?) do
          :ok when keep_alive? -> {:next, rest}
          _closed_or_done -> :done
        end

      :closed ->
        :done
    end
  rescue
    refusal in Refusal ->
      send_response(socket, refusal.status, @json, JSON.encode!(%{error: refusal.message}), false)
      :refused
  end

  defp refuse!(status, message), do: raise(Refusal, status: status, message: message)

  # {:ok, request, keep_alive?, bytes after it} or :closed (the client went
  # away, or kept a connection idle past the deadline, between requests).
  defp read_request(socket, config, buffer) do
    deadline = System.monotonic_time(:millisecond) + config.header_timeout

    case read_head(socket, config, buffer, deadline) do
      :closed ->
        :closed

      {head, rest} ->
        {method, target, version, headers} = parse_head(head)
        keep_alive? = keep_alive?(version, headers)
        body_deadline = System.monotonic_time(:millisecond) + config.body_timeout
        {body, rest} = read_body(socket, config, headers, rest, body_deadline)
        %URI{path: path, query: query} = URI.parse(target)

        request = %{method: method, path: path_segments(path), query: query, body: body}

        {:ok, request, keep_alive?, rest}
    end
  end

  # Decoded after the split, so that an encoded "/" (%2F) stays inside
  # its segment, as a metric name may hold one. URI.decode/1 would pass a
  # "%" without two hex digits through as it is.
  defp path_segments(path) do
    segments = String.split(path || "/", "/", trim: true)

    if Enum.any?(segments, &(&1 =~ ~r/%(?![0-9A-Fa-f]{2})/)),
      do: refuse!(400, "malformed percent-encoding in the path")

    Enum.map(segments, &URI.decode/1)
  end

  # The head up to its blank line, and what follows it.
  defp read_head(socket, config, buffer, deadline) do
    # Blank lines before a request are allowed (RFC 9112, 2.2).
    buffer = trim_leading_newlines(buffer)

    case :binary.match(buffer, "\r\n\r\n") do
      {at, 4} ->
        check_request_line!(buffer, config)
        check_head_size!(at + 4, config)
        <<head::binary-size(at + 4), rest::binary>> = buffer
        {head, rest}

      :nomatch ->
        check_request_line!(buffer, config)
        check_head_size!(byte_size(buffer), config)

        case recv(socket, deadline) do
          {:ok, data} ->
            read_head(socket, config, buffer <> data, deadline)

          :timeout when buffer == "" ->
            :closed

          :timeout ->
            refuse!(408, "the request head took longer than #{config.header_timeout} ms")

          :closed ->
            :closed
        end
    end
  end

  # The head counts up to and with its blank line, whether it came in one
  # read or many.
  defp check_head_size!(size, config) do
    if size > config.max_header_bytes do
      refuse!(431, "the request head is over #{config.max_header_bytes} bytes")
    end
  end

  defp trim_leading_newlines("\r\n" <> rest), do: trim_leading_newlines(rest)
  defp trim_leading_newlines("\n" <> rest), do: trim_leading_newlines(rest)
  defp trim_leading_newlines(buffer), do: buffer

  # Refused as soon as it is known to be too long, before it is all read.
  defp check_request_line!(buffer, config) do
    length =
      case :binary.match(buffer, "\n") do
        {at, 1} -> at
        :nomatch -> byte_size(buffer)
      end

    if length > config.max_request_line do
      refuse!(414, "the request line is over #{config.max_request_line} bytes")
    end
  end

  defp parse_head(head) do
    case :erlang.decode_packet(:http_bin, head, []) do
      {:ok, {:http_request, method, {:abs_path, target}, version}, rest} ->
        {to_string(method), target, version!(version), parse_headers(rest, %{})}

      {:ok, {:http_request, method, {:absoluteURI, _scheme, _host, _port, target}, version}, rest} ->
        {to_string(method), target, version!(version), parse_headers(rest, %{})}

      _other ->
        refuse!(400, "malformed request line")
    end
  end

  defp version!({1, minor} = version) when minor in [0, 1], do: version
  defp version!(_other), do: refuse!(505, "only HTTP/1.0 and HTTP/1.1 are served")

  # Header names in lower case; a repeated header's values joined by ", ".
  defp parse_headers(bytes, headers) do
    case :erlang.decode_packet(:httph_bin, bytes, []) do
      {:ok, {:http_header, _, name, _, value}, rest} ->
        name = name |> to_string() |> String.downcase()
        parse_headers(rest, Map.update(headers, name, value, &(&1 <> ", " <> value)))

      {:ok, :http_eoh, _rest} ->
        headers

      _error ->
        refuse!(400, "malformed request header")
    end
  end

  defp keep_alive?({1, 1}, headers), do: not connection?(headers, "close")
  defp keep_alive?({1, 0}, headers), do: connection?(headers, "keep-alive")

  defp connection?(headers, option) do
    headers
    |> Map.get("connection", "")
    |> String.downcase()
    |> String.split(",", trim: true)
    |> Enum.any?(&(String.trim(&1) == option))
  end

  defp read_body(socket, config, headers, buffer, deadline) do
    case {headers["transfer-encoding"], headers["content-length"]} do
      {nil, nil} ->
        {"", buffer}

      {nil, length} ->
        length = content_length!(length, config)
        continue(socket, headers)
        read_exactly(socket, config, buffer, length, deadline)

      {encoding, nil} ->
        if String.downcase(encoding) != "chunked",
          do: refuse!(501, "transfer-encoding #{short(encoding)} is not supported")

        continue(socket, headers)
        read_chunks(socket, config, buffer, [], 0, deadline)

      {_encoding, _length} ->
        # Either could be believed; a request that sends both is refused.
        refuse!(400, "a request cannot have both content-length and transfer-encoding")
    end
  end

  defp content_length!(text, config) do
    case Integer.parse(text) do
      {length, ""} when length > config.max_body_bytes ->
        refuse!(413, "the request body is #{length} bytes; the limit is #{config.max_body_bytes}")

      {length, ""} when length >= 0 ->
        length

      _other ->
        refuse!(400, "content-length must be a number of bytes, got: #{short(text)}")
    end
  end

  defp continue(socket, headers) do
    if String.downcase(headers["expect"] || "") == "100-continue",
      do: :gen_tcp.send(socket, "HTTP/1.1 100 Continue\r\n\r\n")
  end

  defp read_exactly(_socket, _config, buffer, length, _deadline)
       when byte_size(buffer) >= length do
    <<body::binary-size(length), rest::binary>> = buffer
    {body, rest}
  end

  defp read_exactly(socket, config, buffer, length, deadline) do
    read_exactly(socket, config, more!(socket, config, buffer, deadline), length, deadline)
  end

  defp read_chunks(socket, config, buffer, chunks, total, deadline) do
    case :binary.match(buffer, "\r\n") do
      :nomatch when byte_size(buffer) > @max_chunk_line ->
        refuse!(400, "malformed chunk size line")

      :nomatch ->
        read_chunks(
          socket,
          config,
          more!(socket, config, buffer, deadline),
          chunks,
          total,
          deadline
        )

      {at, 2} ->
        <<line::binary-size(at), "\r\n", rest::binary>> = buffer
        size = chunk_size!(line)
        total = total + size

        if total > config.max_body_bytes do
          refuse!(
            413,
            "the request body is over #{config.max_body_bytes} bytes; the limit is #{config.max_body_bytes}"
          )
        end

        if size == 0 do
          rest = skip_trailers(socket, config, rest, deadline)
          {chunks |> Enum.reverse() |> IO.iodata_to_binary(), rest}
        else
          {chunk, rest} = read_exactly(socket, config, rest, size + 2, deadline)
          <<data::binary-size(size), tail::binary>> = chunk
          if tail != "\r\n", do: refuse!(400, "a chunk does not end with CRLF")
          read_chunks(socket, config, rest, [data | chunks], total, deadline)
        end
    end
  end

  defp chunk_size!(line) do
    hex = line |> String.split(";", parts: 2) |> hd() |> String.trim()

    case Integer.parse(hex, 16) do
      {size, ""} when size >= 0 -> size
      _other -> refuse!(400, "malformed chunk size #{short(hex)}")
    end
  end

  # Trailer fields after the last chunk are read and ignored.
  defp skip_trailers(socket, config, buffer, deadline) do
    case buffer do
      "\r\n" <> rest ->
        rest

      _ ->
        case :binary.match(buffer, "\r\n\r\n") do
          {at, 4} ->
            binary_part(buffer, at + 4, byte_size(buffer) - at - 4)

          :nomatch when byte_size(buffer) > config.max_header_bytes ->
            refuse!(431, "the trailers are over #{config.max_header_bytes} bytes")

          :nomatch ->
            skip_trailers(socket, config, more!(socket, config, buffer, deadline), deadline)
        end
    end
  end

  # A body's next bytes; a body that stops coming is refused.
  defp more!(socket, config, buffer, deadline) do
    case recv(socket, deadline) do
      {:ok, data} -> buffer <> data
      :timeout -> refuse!(408, "the request body took longer than #{config.body_timeout} ms")
      :closed -> exit(:normal)
    end
  end

  defp recv(socket, deadline) do
    case deadline - System.monotonic_time(:millisecond) do
      left when left <= 0 ->
        :timeout

      left ->
        case :gen_tcp.recv(socket, 0, left) do
          {:ok, data} -> {:ok, data}
          {:error, :timeout} -> :timeout
          {:error, _closed} -> :closed
        end
    end
  end

  defp send_response(socket, status, type, {:head_only, body}, keep_alive?),
    do: write(socket, IO.iodata_to_binary(head(status, type, body, keep_alive?)))

  defp send_response(socket, status, type, body, keep_alive?),
    do: write(socket, IO.iodata_to_binary([head(status, type, body, keep_alive?) | body]))

  defp head(status, type, body, keep_alive?) do
    [
      "HTTP/1.1 #{status} #{Map.fetch!(@reasons, status)}\r\n",
      "content-type: #{type}\r\ncontent-length: #{IO.iodata_length(body)}\r\n",
      if(keep_alive?, do: "", else: "connection: close\r\n"),
      "\r\n"
    ]
  end

  # In pieces: one large send would return at once and leave the whole
  # answer queued in the port for as long as the client takes to read it.
  # A piece sent while the port is still busy with the last one waits,
  # and a client that stops reading makes it fail after the send timeout
  # (the socket then closes, send_timeout_close, and the answer is freed).
  defp write(socket, bytes) when byte_size(bytes) <= @write_piece,
    do: :gen_tcp.send(socket, bytes)

  defp write(socket, <<piece::binary-size(@write_piece), rest::binary>>) do
    with :ok <- :gen_tcp.send(socket, piece), do: write(socket, rest)
  end

  # Requests that read metrics take turns (see AnalyticsService.Turns):
  # each holds its window's results and its answer, so this bounds the
  # memory, and the dirty schedulers are not shared a hundred ways.
  defp answer(request, config) do
    if Router.reads_metrics?(request) do
      case Turns.run(config.turns, config.queue_timeout, fn ->
             answer_now(request, config.context)
           end) do
        {:ok, answer} -> answer
        :busy -> {503, @json, JSON.encode!(%{error: "the service is busy; try again"})}
      end
    else
      answer_now(request, config.context)
    end
  end

  # Whatever a request does wrong, the client gets an answer, and the
  # server, the cache and every other request carry on.
  # {status, content type, body}: JSON, or one of the dashboard's assets.
  defp answer_now(request, context) do
    case Router.handle(request, context) do
      {status, {:asset, type, bytes}} -> {status, type, bytes}
      {status, payload} -> {status, @json, JSON.encode!(payload)}
    end
  rescue
    error ->
      Logger.error(Exception.format(:error, error, __STACKTRACE__))
      {500, @json, JSON.encode!(%{error: "internal error"})}
  catch
    :exit, reason ->
      Logger.error("request exited: #{Exception.format_exit(reason)}")
      {503, @json, JSON.encode!(%{error: "the service is busy; try again"})}
  end

  defp short(value), do: value |> inspect(printable_limit: 40) |> String.slice(0, 60)
end
