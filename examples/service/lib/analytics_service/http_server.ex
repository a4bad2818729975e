defmodule AnalyticsService.HttpServer do
  @moduledoc """
  The service's HTTP front: a small HTTP/1.1 server over `:gen_tcp`, one
  process per connection (`AnalyticsService.HttpConnection`), answering
  JSON from `AnalyticsService.Router` (and the dashboard page).

  It exists, instead of OTP's httpd, for what httpd cannot do: deadlines
  for a request's head and body (a client sending a header line every few
  seconds, or half a body, holds a connection for a bounded time), a
  connection cap that attackers cannot fill while real clients are
  refused, a timeout on writes to clients that do not read, and `nodelay`
  on any port (httpd on OTP 25 refuses socket options with a fixed port).

  The cap is fair: when `:max_connections` are open, a new connection
  takes the place of the one that has waited longest for a complete
  request (an idle keep-alive connection or a slow sender), which is
  closed; only when every connection is busy answering is the new one
  refused with a 503. A client that sends its request at once is busy as
  soon as it is read, so a crowd of slow senders cannot keep it out.

  This process owns the listening socket and tracks the connections; when
  it stops, the listener closes and every connection is closed.
  """
  use GenServer

  alias AnalyticsService.{HttpConnection, JSON, Turns}

  @limits [
    max_connections: 1_000,
    header_timeout: 10_000,
    body_timeout: 10_000,
    send_timeout: 10_000,
    max_request_line: 8_192,
    max_header_bytes: 16_384,
    max_body_bytes: 65_536,
    max_requests: 16,
    queue_timeout: 5_000
  ]

  @doc """
  Options: `:ip` (default `{127, 0, 0, 1}`), `:port` (default 0, a free
  one), `:context` (see `AnalyticsService.Router`), `:name`, and limits:

    * `:max_connections` (#{@limits[:max_connections]}): open connections
      at most (see the module doc for who gives way when it is reached)
    * `:header_timeout` (#{@limits[:header_timeout]} ms): from when a
      connection starts waiting for a request (a new connection, or a
      keep-alive one after its last answer) to the end of the request's
      head; then 408 and the connection closes
    * `:body_timeout` (#{@limits[:body_timeout]} ms): to read a whole body
    * `:send_timeout` (#{@limits[:send_timeout]} ms): a write that makes no
      progress for this long closes the connection and frees the answer
    * `:max_request_line` (#{@limits[:max_request_line]} bytes): a longer
      request line (method, URL, version) gets 414
    * `:max_header_bytes` (#{@limits[:max_header_bytes]}): a longer head gets 431
    * `:max_body_bytes` (#{@limits[:max_body_bytes]}): a larger body, by
      `content-length` or chunked, gets 413
    * `:max_requests` (#{@limits[:max_requests]}): requests that read
      metrics worked on at once; more wait for a turn
    * `:queue_timeout` (#{@limits[:queue_timeout]} ms): how long a request
      waits for a turn; then 503

      {:ok, _} = AnalyticsService.HttpServer.start_link(context: context, port: 8080, header_timeout: 5_000)
  """
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    limits!(opts)
    GenServer.start_link(__MODULE__, opts, Keyword.take(opts, [:name]))
  end

  @doc "The port the server listens on."
  @spec port(GenServer.server()) :: :inet.port_number()
  def port(server), do: GenServer.call(server, :port)

  @doc """
  Checks limits given as `start_link/1` options: ArgumentError for a name
  that is not a limit or a value that is not a positive integer.

      iex> AnalyticsService.HttpServer.check_limits!(header_timeout: 1_000)
      :ok
  """
  @spec check_limits!(keyword()) :: :ok
  def check_limits!(limits) do
    case Keyword.keys(limits) -- Keyword.keys(@limits) do
      [] ->
        limits!(limits)
        :ok

      unknown ->
        raise ArgumentError,
              "unknown HTTP limits #{inspect(unknown)}; the limits are #{inspect(Keyword.keys(@limits))}"
    end
  end

  defp limits!(opts) do
    for {key, default} <- @limits, into: %{} do
      case Keyword.get(opts, key, default) do
        value when is_integer(value) and value > 0 ->
          {key, value}

        other ->
          raise ArgumentError, "#{key} must be a positive integer, got: #{inspect(other)}"
      end
    end
  end

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)
    limits = limits!(opts)

    # Accepted sockets inherit these. nodelay: a response is one write, and
    # without it a keep-alive client's next request can wait 40 ms for a
    # delayed ACK; send_timeout_close: a timed-out write closes the socket,
    # so the connection process ends and frees its answer.
    socket_opts = [
      :binary,
      packet: :raw,
      active: false,
      ip: Keyword.get(opts, :ip, {127, 0, 0, 1}),
      reuseaddr: true,
      nodelay: true,
      backlog: 1_024,
      send_timeout: limits.send_timeout,
      send_timeout_close: true
    ]

    case :gen_tcp.listen(Keyword.get(opts, :port, 0), socket_opts) do
      {:ok, listener} ->
        {:ok, port} = :inet.port(listener)
        server = self()
        acceptor = spawn_link(fn -> accept_loop(listener, server) end)
        waiting = :ets.new(:waiting, [:ordered_set, :public, write_concurrency: true])

        config =
          limits
          |> Map.take(
            ~w(header_timeout body_timeout max_request_line max_header_bytes max_body_bytes
               queue_timeout)a
          )
          |> Map.merge(%{
            context: Keyword.fetch!(opts, :context),
            waiting: waiting,
            turns: Turns.new(limits.max_requests)
          })

        {:ok,
         %{
           listener: listener,
           port: port,
           acceptor: acceptor,
           max: limits.max_connections,
           config: config,
           connections: %{}
         }}

      {:error, reason} ->
        {:stop, {:listen, reason}}
    end
  end

  @impl true
  def handle_call(:port, _from, state), do: {:reply, state.port, state}

  @impl true
  def handle_info({:accepted, socket}, state) do
    cond do
      map_size(state.connections) < state.max ->
        {:noreply, start_connection(socket, state)}

      pid = evict_longest_waiting(state.config.waiting) ->
        {ref, connections} = Map.pop(state.connections, pid)
        Process.demonitor(ref, [:flush])
        Process.exit(pid, :kill)
        {:noreply, start_connection(socket, %{state | connections: connections})}

      true ->
        # Every connection is answering a request: this one must wait for
        # its client to come back. The socket is new, so this write cannot
        # block.
        :gen_tcp.send(socket, busy())
        :gen_tcp.close(socket)
        {:noreply, state}
    end
  end

  def handle_info({:DOWN, _ref, :process, pid, _reason}, state) do
    # A killed connection could not take itself out of the waiting table.
    :ets.match_delete(state.config.waiting, {{:_, pid}})
    {:noreply, %{state | connections: Map.delete(state.connections, pid)}}
  end

  def handle_info({:EXIT, acceptor, reason}, %{acceptor: acceptor} = state),
    do: {:stop, {:acceptor, reason}, state}

  def handle_info({:EXIT, _other, _reason}, state), do: {:noreply, state}

  @impl true
  def terminate(_reason, state) do
    :gen_tcp.close(state.listener)
    for {pid, _ref} <- state.connections, do: Process.exit(pid, :kill)
    :ok
  end

  defp start_connection(socket, state) do
    {pid, ref} = spawn_monitor(HttpConnection, :serve, [state.config])

    case :gen_tcp.controlling_process(socket, pid) do
      :ok ->
        send(pid, {:socket, socket})
        %{state | connections: Map.put(state.connections, pid, ref)}

      {:error, _closed} ->
        :gen_tcp.close(socket)
        Process.demonitor(ref, [:flush])
        Process.exit(pid, :kill)
        state
    end
  end

  # The connection that has waited longest for a complete request, taken
  # out of the waiting table so that it cannot start answering, or nil.
  defp evict_longest_waiting(waiting) do
    case :ets.first(waiting) do
      :"$end_of_table" ->
        nil

      {_since, pid} = key ->
        # The connection may have taken itself out since :ets.first.
        case :ets.take(waiting, key) do
          [_] -> pid
          [] -> evict_longest_waiting(waiting)
        end
    end
  end

  defp busy do
    body = JSON.encode!(%{error: "too many connections; try again"})

    [
      "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n",
      "content-length: #{IO.iodata_length(body)}\r\nconnection: close\r\nretry-after: 1\r\n\r\n",
      body
    ]
  end

  defp accept_loop(listener, server) do
    case :gen_tcp.accept(listener) do
      {:ok, socket} ->
        :ok = :gen_tcp.controlling_process(socket, server)
        send(server, {:accepted, socket})
        accept_loop(listener, server)

      {:error, :closed} ->
        :ok

      {:error, _no_more_descriptors} ->
        # EMFILE and the like pass; accepting at once again would spin.
        Process.sleep(50)
        accept_loop(listener, server)
    end
  end
end
