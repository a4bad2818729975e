defmodule AnalyticsService.HttpServer do
  @moduledoc """
  The service's HTTP front: OTP's `:inets` httpd with this module as its
  only request handler (`do/1`), answering JSON from `AnalyticsService.Router`.
  httpd runs each request in its own process, so a slow or failing request
  holds up no other. This process owns the httpd instance: when it stops,
  it stops the listener.
  """
  use GenServer
  require Logger
  require Record

  alias AnalyticsService.{JSON, Router}

  Record.defrecordp(:mod, Record.extract(:mod, from_lib: "inets/include/httpd.hrl"))

  # httpd itself refuses larger bodies (with its own HTML page); up to this
  # size they reach AnalyticsService.JSON, which answers 413 in JSON above
  # its own, smaller limit.
  @max_body_bytes 1_048_576

  @doc """
  Options: `:ip` (default `{127, 0, 0, 1}`), `:port` (default 0, a free
  one) and `:context` (see `AnalyticsService.Router`).
  """
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, Keyword.take(opts, [:name]))

  @doc "The port the server listens on."
  @spec port(GenServer.server()) :: :inet.port_number()
  def port(server), do: GenServer.call(server, :port)

  @impl true
  def init(opts) do
    # httpd passes handlers only its config; a unique server name finds ours.
    server_name = "analytics-service-#{System.unique_integer([:positive])}"
    :persistent_term.put({__MODULE__, server_name}, Keyword.fetch!(opts, :context))
    Process.flag(:trap_exit, true)

    config = [
      bind_address: Keyword.get(opts, :ip, {127, 0, 0, 1}),
      # httpd writes the head and the body separately: without nodelay, the
      # body waits for the client's delayed ACK (40 ms a request).
      socket_type: {:ip_comm, [nodelay: true]},
      port: Keyword.get(opts, :port, 0),
      server_name: String.to_charlist(server_name),
      server_root: String.to_charlist(System.tmp_dir!()),
      document_root: String.to_charlist(System.tmp_dir!()),
      modules: [__MODULE__],
      max_body_size: @max_body_bytes,
      max_content_length: @max_body_bytes,
      max_clients: 1_000,
      keep_alive: true
    ]

    # Under inets' own supervisor, as :httpd.info/1 (the bound port) needs.
    case :inets.start(:httpd, config) do
      {:ok, httpd} ->
        port = :proplists.get_value(:port, :httpd.info(httpd))
        {:ok, %{httpd: httpd, port: port, server_name: server_name}}

      {:error, reason} ->
        :persistent_term.erase({__MODULE__, server_name})
        {:stop, reason}
    end
  end

  @impl true
  def handle_call(:port, _from, state), do: {:reply, state.port, state}

  @impl true
  def terminate(_reason, state) do
    :inets.stop(:httpd, state.httpd)
    :persistent_term.erase({__MODULE__, state.server_name})
  end

  @doc false
  # httpd's callback: one request in, one response out.
  def unquote(:do)(mod(method: method, request_uri: uri, entity_body: body, config_db: config)) do
    server_name = :httpd_util.lookup(config, :server_name)
    context = :persistent_term.get({__MODULE__, List.to_string(server_name)})
    %URI{path: path, query: query} = URI.parse(List.to_string(uri))

    request = %{
      method: List.to_string(method),
      path: String.split(path || "/", "/", trim: true),
      query: query,
      body: IO.iodata_to_binary(body)
    }

    {status, payload} = safely(request, context)
    json = JSON.encode!(payload)

    head = [
      code: status,
      content_type: 'application/json',
      content_length: Integer.to_charlist(IO.iodata_length(json))
    ]

    {:proceed, [response: {:response, head, json}]}
  end

  # Whatever a request does wrong, the client gets an answer, and the
  # server, the cache and every other request carry on.
  defp safely(request, context) do
    Router.handle(request, context)
  rescue
    error ->
      Logger.error(Exception.format(:error, error, __STACKTRACE__))
      {500, %{error: "internal error: #{Exception.message(error)}"}}
  catch
    :exit, reason ->
      Logger.error("request exited: #{Exception.format_exit(reason)}")
      {503, %{error: "the service is busy; try again"}}
  end
end
