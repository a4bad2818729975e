defmodule AnalyticsService.MainJobTest do
  # The main job as scripts/demo.sh runs it: run.exs under `mix run
  # --no-halt`, in its own VM, against a real redis-server.
  use ExUnit.Case, async: false
  import AnalyticsService.ServiceCase
  alias Analytics.RedisServer

  @moduletag timeout: 180_000

  defp run_main_job(server, args) do
    port =
      Port.open({:spawn_executable, System.find_executable("elixir")}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 65_536},
        cd: Path.expand("..", __DIR__),
        # The build these tests run from: another env would compile first.
        env: [{~c"MIX_ENV", ~c"test"}],
        args:
          ~w(-S mix run --no-halt run.exs --metrics 2 --points 2000 --redis-port) ++
            ["#{server.port}" | args]
      ])

    {:os_pid, os_pid} = Port.info(port, :os_pid)
    on_exit(fn -> System.cmd("kill", ["-KILL", "#{os_pid}"], stderr_to_stdout: true) end)
    {port, os_pid}
  end

  # Every line up to the one matching `pattern`; fails if the VM exits first.
  defp read_until(port, pattern, seen \\ []) do
    receive do
      {^port, {:data, {_, line}}} ->
        if line =~ pattern,
          do: Enum.reverse([line | seen]),
          else: read_until(port, pattern, [line | seen])

      {^port, {:exit_status, status}} ->
        flunk("the main job exited with #{status}:\n#{seen |> Enum.reverse() |> Enum.join("\n")}")
    after
      120_000 -> flunk("no #{inspect(pattern)} from the main job: #{inspect(Enum.reverse(seen))}")
    end
  end

  test "run.exs prints the dashboard first, serves on the port it is given after it says so; SIGTERM (demo.sh's Ctrl-C) stops it" do
    server = RedisServer.start!()
    fixed = RedisServer.free_port()
    {port, os_pid} = run_main_job(server, ["--port", "#{fixed}"])
    lines = read_until(port, ~r/serving; Ctrl-C/)

    [_, http_port] =
      Enum.find_value(lines, &Regex.run(~r/listens on http:\/\/127.0.0.1:(\d+)/, &1))

    assert http_port == "#{fixed}"

    # The dashboard's URL comes first, before the curl examples, and serves the page.
    dashboard = Enum.find_index(lines, &(&1 =~ "==> the dashboard: http://127.0.0.1:#{fixed}/ "))
    first_curl = Enum.find_index(lines, &(&1 =~ "$ curl"))
    assert dashboard && first_curl && dashboard < first_curl

    {:ok, {{_, 200, _}, _, html}} =
      :httpc.request(:get, {~c"http://127.0.0.1:#{fixed}/", []}, [], body_format: :binary)

    assert html =~ "<title>analytics dashboard</title>"

    # The script has returned by now; the service must not have gone with it.
    for _ <- 1..5 do
      Process.sleep(200)
      assert {200, %{"status" => "ok", "metrics" => 2}} = get!(http_port, "/health")
    end

    assert {200, %{"rows" => 2000}} =
             get!(http_port, "/metrics/cpu.web-01/summary?reducers=count")

    System.cmd("kill", ["-TERM", "#{os_pid}"])
    assert_receive {^port, {:exit_status, 0}}, 30_000
  end

  test "a misspelt or malformed flag stops run.exs with its usage, before it loads anything" do
    server = RedisServer.start!()
    {port, _os_pid} = run_main_job(server, ["--pointz", "5", "--metrics", "many"])

    output = collect_until_exit(port, [])
    assert {status, lines} = output
    assert status == 2
    text = Enum.join(lines, "\n")
    assert text =~ "run.exs cannot use: --pointz, --metrics many"
    assert text =~ "usage: run.exs --redis-port P"
    refute text =~ "loaded"
  end

  defp collect_until_exit(port, lines) do
    receive do
      {^port, {:data, {_, line}}} -> collect_until_exit(port, [line | lines])
      {^port, {:exit_status, status}} -> {status, Enum.reverse(lines)}
    after
      120_000 -> flunk("run.exs did not exit: #{inspect(Enum.reverse(lines))}")
    end
  end
end
