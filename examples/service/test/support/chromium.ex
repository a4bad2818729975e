defmodule AnalyticsService.Chromium do
  @moduledoc """
  Debian's headless Chromium driven through the DevTools protocol, for
  tests that need real input events (a drag on a canvas): the browser is
  started with `--remote-debugging-port=0`, and this module speaks the
  protocol's JSON over a WebSocket it opens itself on `:gen_tcp` (a text
  frame per message, masked as a client must).

      browser = Chromium.start!("http://127.0.0.1:4000/")
      {browser, "analytics dashboard"} = Chromium.eval!(browser, "document.title")
      Chromium.stop(browser)
  """

  defstruct [:port, :os_pid, :socket, :dir, buffer: "", next_id: 1]

  @timeout 30_000

  @doc "Starts Chromium on `url`; the test's `on_exit` should call `stop/1`."
  def start!(url, window \\ "1280,900") do
    dir = Path.join(System.tmp_dir!(), "chromium-cdp-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)

    port =
      Port.open({:spawn_executable, System.find_executable("chromium")}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 65_536},
        args: [
          "--headless=new",
          # The tests run as root.
          "--no-sandbox",
          "--disable-gpu",
          "--user-data-dir=#{dir}/profile",
          "--remote-debugging-port=0",
          "--window-size=#{window}",
          url
        ]
      ])

    {:os_pid, os_pid} = Port.info(port, :os_pid)
    browser = %__MODULE__{port: port, os_pid: os_pid, dir: dir}
    devtools = listening!(port)
    page = page_target!(devtools)
    %{browser | socket: websocket!(page)}
  end

  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
  defp listening!(port) do
    receive do
      {^port, {:data, {_, line}}} ->
        case Regex.run(~r{DevTools listening on ws://([\d.]+):(\d+)/}, line) do
          [_, host, number] -> {host, String.to_integer(number)}
          nil -> listening!(port)
        end

      {^port, {:exit_status, status}} ->
        raise "chromium exited with #{status} before it listened"
    after
      @timeout -> raise "chromium did not say where DevTools listens"
    end
  end

  # The page's WebSocket address, from the browser's target list.
  defp page_target!({host, port}) do
    {:ok, {{_, 200, _}, _, body}} =
      :httpc.request(:get, {~c"http://#{host}:#{port}/json/list", []}, [], body_format: :binary)

    target =
      body
      |> :jiffy.decode([:return_maps])
      |> Enum.find(&(&1["type"] == "page")) || raise "no page target in #{body}"

    URI.parse(target["webSocketDebuggerUrl"])
  end

  defp websocket!(%URI{host: host, port: port, path: path}) do
    {:ok, socket} =
      :gen_tcp.connect(String.to_charlist(host), port, [:binary, active: false], @timeout)

    key = Base.encode64(:crypto.strong_rand_bytes(16))

    :ok =
      :gen_tcp.send(socket, [
        "GET #{path} HTTP/1.1\r\nHost: #{host}:#{port}\r\nUpgrade: websocket\r\n",
        "Connection: Upgrade\r\nSec-WebSocket-Key: #{key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
      ])

    {head, ""} = read_head(socket, "")
    unless head =~ ~r/^HTTP\/1.1 101/, do: raise("no WebSocket upgrade: #{head}")
    socket
  end

  defp read_head(socket, buffer) do
    case :binary.split(buffer, "\r\n\r\n") do
      [head, rest] ->
        {head, rest}

      [_] ->
        {:ok, data} = :gen_tcp.recv(socket, 0, @timeout)
        read_head(socket, buffer <> data)
    end
  end

  @doc """
  Calls a DevTools method: `{browser, result}` (the browser's buffer and
  next id move on), or raises with the protocol's error.
  """
  def call(browser, method, params \\ %{}) do
    id = browser.next_id
    message = :jiffy.encode(%{id: id, method: method, params: params})
    :ok = :gen_tcp.send(browser.socket, frame(message))
    {message, buffer} = reply(browser.socket, browser.buffer, id)
    browser = %{browser | buffer: buffer, next_id: id + 1}

    case message do
      %{"result" => result} -> {browser, result}
      %{"error" => error} -> raise "#{method}: #{inspect(error)}"
    end
  end

  @doc """
  `{browser, value}` of a JavaScript expression in the page (promises
  awaited), or raises with the exception the page threw.
  """
  def eval!(browser, expression) do
    {browser, result} =
      call(browser, "Runtime.evaluate", %{
        expression: expression,
        returnByValue: true,
        awaitPromise: true
      })

    if details = result["exceptionDetails"], do: raise("in the page: #{inspect(details)}")
    {browser, result["result"]["value"]}
  end

  @doc "A left-button drag from `{x0, y}` to `{x1, y}` in `steps` moves, as a mouse makes it."
  def drag(browser, {x0, y}, {x1, y}, steps \\ 10) do
    mouse = fn browser, type, x, buttons ->
      {browser, _} =
        call(browser, "Input.dispatchMouseEvent", %{
          type: type,
          x: x,
          y: y,
          button: "left",
          buttons: buttons,
          clickCount: 1
        })

      browser
    end

    browser = mouse.(browser, "mousePressed", x0, 1)

    browser =
      Enum.reduce(1..steps, browser, fn step, browser ->
        mouse.(browser, "mouseMoved", x0 + (x1 - x0) * step / steps, 1)
      end)

    mouse.(browser, "mouseReleased", x1, 0)
  end

  @doc "A left click at `{x, y}`."
  def click(browser, {x, y}), do: drag(browser, {x, y}, {x, y}, 1)

  @doc "Closes the browser and removes its profile."
  def stop(%__MODULE__{} = browser) do
    if browser.socket, do: :gen_tcp.close(browser.socket)
    # SIGTERM lets the browser take its helper processes down with it.
    System.cmd("kill", ["-TERM", "#{browser.os_pid}"], stderr_to_stdout: true)

    receive do
      {port, {:exit_status, _}} when port == browser.port -> :ok
    after
      10_000 -> System.cmd("kill", ["-KILL", "#{browser.os_pid}"], stderr_to_stdout: true)
    end

    File.rm_rf(browser.dir)
    :ok
  end

  # A client's text frame: FIN, opcode 1, masked.
  defp frame(payload) do
    mask = :crypto.strong_rand_bytes(4)
    size = byte_size(payload)

    length =
      cond do
        size < 126 -> <<1::1, size::7>>
        size < 65_536 -> <<1::1, 126::7, size::16>>
        true -> <<1::1, 127::7, size::64>>
      end

    [<<1::1, 0::3, 1::4>>, length, mask, mask(payload, mask)]
  end

  defp mask(payload, <<a, b, c, d>>) do
    key = :binary.copy(<<a, b, c, d>>, div(byte_size(payload), 4) + 1)
    :crypto.exor(payload, binary_part(key, 0, byte_size(payload)))
  end

  # The reply with `id`; events and other replies on the way are dropped.
  defp reply(socket, buffer, id) do
    {text, buffer} = message(socket, buffer, "")
    decoded = :jiffy.decode(text, [:return_maps])
    if decoded["id"] == id, do: {decoded, buffer}, else: reply(socket, buffer, id)
  end

  # One whole message (its frames joined), and the bytes after it.
  defp message(socket, buffer, acc) do
    case parse_frame(buffer) do
      {:frame, fin, payload, rest} ->
        if fin == 1, do: {acc <> payload, rest}, else: message(socket, rest, acc <> payload)

      :more ->
        {:ok, data} = :gen_tcp.recv(socket, 0, @timeout)
        message(socket, buffer <> data, acc)
    end
  end

  # Server frames are not masked.
  defp parse_frame(<<fin::1, _::3, _opcode::4, 0::1, 126::7, size::16, rest::binary>>),
    do: payload(fin, size, rest)

  defp parse_frame(<<fin::1, _::3, _opcode::4, 0::1, 127::7, size::64, rest::binary>>),
    do: payload(fin, size, rest)

  defp parse_frame(<<fin::1, _::3, _opcode::4, 0::1, size::7, rest::binary>>) when size < 126,
    do: payload(fin, size, rest)

  defp parse_frame(_short), do: :more

  defp payload(fin, size, rest) when byte_size(rest) >= size do
    <<payload::binary-size(size), rest::binary>> = rest
    {:frame, fin, payload, rest}
  end

  defp payload(_fin, _size, _rest), do: :more
end
