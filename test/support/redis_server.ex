defmodule Analytics.RedisServer do
  @moduledoc """
  A real redis-server for tests: started on a free loopback port, with no
  persistence, and killed when the test (or the owner process) ends; or one
  whose port speaks TLS only (`start_tls!/2`), with certificates made for
  the test (`tls_certificates!/0`).
  """
  import ExUnit.Callbacks, only: [on_exit: 1]

  defstruct [:port, :os_pid, :erl_port, :args, tls: false]

  @make_certs Path.expand("make_tls_certs.sh", __DIR__)

  @doc "Starts a server; extra `args` go on its command line. Stopped on test exit."
  def start!(args \\ []) do
    server = launch(free_port(), args, false)
    on_exit(fn -> stop(server) end)
    server
  end

  @doc """
  Makes a CA, a server certificate for localhost and 127.0.0.1, a client
  certificate and an untrusted CA with test/support/make_tls_certs.sh (see
  there for the file names) in a temporary directory, removed on test exit
  (or at the end of the module, from `setup_all`); returns the directory.
  """
  def tls_certificates! do
    dir = Path.join(System.tmp_dir!(), "analytics-tls-#{System.unique_integer([:positive])}")
    {output, status} = System.cmd("bash", [@make_certs, dir], stderr_to_stdout: true)
    if status != 0, do: raise("make_tls_certs.sh failed: #{output}")
    on_exit(fn -> File.rm_rf!(dir) end)
    dir
  end

  @doc """
  Starts a server whose port speaks TLS only, presenting `certs`'s
  `server.crt` (or `cert: "other-server"`'s). `auth_clients: true` makes it
  require a client certificate signed by `ca.crt` (`:optional`: check one
  if given); other `args` go on its command line.
  """
  def start_tls!(certs, opts \\ []) do
    cert = Path.join(certs, Keyword.get(opts, :cert, "server"))

    tls_args = [
      "--tls-cert-file",
      cert <> ".crt",
      "--tls-key-file",
      cert <> ".key",
      "--tls-ca-cert-file",
      Path.join(certs, "ca.crt"),
      "--tls-auth-clients",
      case Keyword.get(opts, :auth_clients, false) do
        true -> "yes"
        false -> "no"
        :optional -> "optional"
      end
    ]

    server = launch(free_port(), tls_args ++ Keyword.get(opts, :args, []), true)
    on_exit(fn -> stop(server) end)
    server
  end

  @doc "Starts a server on `port` (one `free_port/0` did not pick, such as a cluster node's)."
  def start_at!(port, args) do
    server = launch(port, args, false)
    on_exit(fn -> stop(server) end)
    server
  end

  @doc """
  Starts a sentinel (`redis-server <config> --sentinel`) on a free port,
  reading and rewriting `config`, a file of its own.
  """
  def start_sentinel!(config) do
    server = launch(free_port(), ["--sentinel"], false, config)
    on_exit(fn -> stop(server) end)
    server
  end

  @doc "Starts a server again on the same port (after `stop/1` or a kill)."
  def restart!(%__MODULE__{port: port, args: args, tls: tls}) do
    server = launch(port, args, tls)
    on_exit(fn -> stop(server) end)
    server
  end

  def url(%__MODULE__{port: port, tls: false}), do: "redis://127.0.0.1:#{port}"
  def url(%__MODULE__{port: port, tls: true}), do: "rediss://127.0.0.1:#{port}"

  @doc "ExUnit setup callback: a server and a connection to it, as `%{server: _, conn: _}`."
  def with_connection(_context) do
    server = start!()
    {:ok, conn} = Analytics.Redis.start_link(url: url(server))
    %{server: server, conn: conn}
  end

  @doc """
  Kills the server at once (SIGKILL), as a crash would, and returns once the
  process is gone: until then its socket still listens, and a restart on the
  same port would find the dying server instead of the new one.
  """
  def stop(%__MODULE__{os_pid: os_pid}) do
    System.cmd("kill", ["-9", Integer.to_string(os_pid)], stderr_to_stdout: true)

    gone? = fn ->
      elem(System.cmd("kill", ["-0", "#{os_pid}"], stderr_to_stdout: true), 1) != 0
    end

    Analytics.Eventually.wait_until(gone?, 2_000) || raise("redis-server #{os_pid} did not die")
    :ok
  end

  def pause(%__MODULE__{os_pid: os_pid}),
    do: System.cmd("kill", ["-STOP", Integer.to_string(os_pid)])

  def resume(%__MODULE__{os_pid: os_pid}),
    do: System.cmd("kill", ["-CONT", Integer.to_string(os_pid)])

  defp launch(port, args, tls, config \\ nil) do
    listen =
      if tls,
        do: ["--port", "0", "--tls-port", Integer.to_string(port)],
        else: ["--port", Integer.to_string(port)]

    # A sentinel's config file must come first.
    argv =
      List.wrap(config) ++
        listen ++
        [
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no"
        ] ++
        args

    erl_port =
      Port.open({:spawn_executable, System.find_executable("redis-server")}, [
        :binary,
        :exit_status,
        args: argv
      ])

    {:os_pid, os_pid} = Port.info(erl_port, :os_pid)
    # A TCP connect: what a TLS port and a plain one have in common.
    wait_until_listening(port, 200)
    %__MODULE__{port: port, os_pid: os_pid, erl_port: erl_port, args: args, tls: tls}
  end

  @doc "A loopback port nothing listens on now."
  def free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  defp wait_until_listening(port, 0), do: raise("redis-server did not start on port #{port}")

  defp wait_until_listening(port, tries) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
      {:ok, socket} ->
        :gen_tcp.close(socket)

      {:error, _} ->
        Process.sleep(25)
        wait_until_listening(port, tries - 1)
    end
  end
end
