defmodule Analytics.HostileRedis do
  @moduledoc """
  A fake Redis server on 127.0.0.1 for fault tests: it answers every
  command it receives the way its current mode says, on every connection,
  and keeps accepting connections so clients can reconnect.

  Modes:

    * `{:reply, bytes}` - send `bytes` at once
    * `{:reply_and_close, bytes}` - send `bytes`, then close the connection
    * `{:trickle, bytes, ms}` - send `bytes` one byte every `ms` milliseconds
    * `{:stream, head, chunk}` - send `head`, then `chunk` over and over until
      the client goes away (a reply that never ends)
    * `:silent` - read and never answer
  """

  defstruct [:port, :listener, :mode]

  @doc "Starts a server in `mode` on a free loopback port."
  def start!(mode) do
    {:ok, mode_agent} = Agent.start(fn -> mode end)

    {:ok, socket} =
      :gen_tcp.listen(0, [:binary, ip: {127, 0, 0, 1}, active: false, reuseaddr: true])

    {:ok, port} = :inet.port(socket)
    listener = spawn(fn -> accept_loop(socket, mode_agent) end)
    :ok = :gen_tcp.controlling_process(socket, listener)
    %__MODULE__{port: port, listener: listener, mode: mode_agent}
  end

  @doc "The URL clients connect to."
  def url(%__MODULE__{port: port}), do: "redis://127.0.0.1:#{port}"

  @doc "Changes how every connection answers from now on."
  def set_mode(%__MODULE__{mode: agent}, mode), do: Agent.update(agent, fn _ -> mode end)

  @doc "Closes the listener and every connection."
  def stop(%__MODULE__{listener: listener, mode: agent}) do
    Process.exit(listener, :kill)
    Agent.stop(agent)
  end

  defp accept_loop(socket, agent) do
    Process.flag(:trap_exit, true)

    case :gen_tcp.accept(socket) do
      {:ok, client} ->
        pid = spawn_link(fn -> serve(client, agent) end)
        :gen_tcp.controlling_process(client, pid)
        accept_loop(socket, agent)

      {:error, _} ->
        :ok
    end
  end

  # Answers once per whole command, however the commands arrive in chunks.
  defp serve(client, agent, buffer \\ <<>>) do
    case :gen_tcp.recv(client, 0) do
      {:ok, data} ->
        {count, rest} = take_commands(buffer <> data, 0)
        for _ <- 1..count//1, do: answer(client, Agent.get(agent, & &1))
        serve(client, agent, rest)

      {:error, _} ->
        :ok
    end
  end

  defp answer(client, {:reply, bytes}), do: :gen_tcp.send(client, bytes)

  defp answer(client, {:reply_and_close, bytes}),
    do: :gen_tcp.send(client, bytes) && :gen_tcp.close(client)

  defp answer(_client, :silent), do: :ok

  defp answer(client, {:stream, head, chunk}) do
    with :ok <- :gen_tcp.send(client, head), do: stream(client, chunk)
  end

  defp answer(client, {:trickle, bytes, ms}) do
    for <<byte <- bytes>>, do: :gen_tcp.send(client, <<byte>>) && Process.sleep(ms)
  end

  defp stream(client, chunk) do
    with :ok <- :gen_tcp.send(client, chunk), do: stream(client, chunk)
  end

  defp take_commands(buffer, count) do
    case skip_command(buffer) do
      {:ok, rest} -> take_commands(rest, count + 1)
      :incomplete -> {count, buffer}
    end
  end

  defp skip_command(<<"*", rest::binary>>) do
    with [n, rest] <- :binary.split(rest, "\r\n"),
         {n, ""} <- Integer.parse(n) do
      skip_bulks(rest, n)
    else
      _ -> :incomplete
    end
  end

  defp skip_command(_buffer), do: :incomplete

  defp skip_bulks(rest, 0), do: {:ok, rest}

  defp skip_bulks(<<"$", rest::binary>>, n) do
    with [length, rest] <- :binary.split(rest, "\r\n"),
         {length, ""} <- Integer.parse(length),
         <<_::binary-size(length), "\r\n", rest::binary>> <- rest do
      skip_bulks(rest, n - 1)
    else
      _ -> :incomplete
    end
  end

  defp skip_bulks(_rest, _n), do: :incomplete
end
