defmodule LocalRedis do
  @moduledoc false
  # A throwaway redis-server on a free loopback port, for the demo and the
  # benchmarks (the tests have their own, test/support/redis_server.ex).

  @doc """
  Starts redis-server with no persistence, `extra` on its command line (say,
  a --tls-port); returns {port, os_pid}.
  """
  def start(extra \\ []) do
    port = free_port()

    args =
      ["--port", "#{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"] ++ extra

    erl_port =
      Port.open({:spawn_executable, System.find_executable("redis-server")}, [:binary, args: args])

    {:os_pid, os_pid} = Port.info(erl_port, :os_pid)
    wait(port, 100)
    {port, os_pid}
  end

  def stop({_port, os_pid}), do: System.cmd("kill", ["#{os_pid}"])

  @doc "A loopback port nothing listens on now."
  def free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  defp wait(port, tries) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
      {:ok, s} ->
        :gen_tcp.close(s)

      _ when tries > 0 ->
        Process.sleep(20)
        wait(port, tries - 1)
    end
  end
end
