defmodule Analytics.RedisSentinel do
  @moduledoc """
  A primary, a replica and three sentinels watching them as group
  "mymaster" (quorum 2, down after 1 s), all on loopback ports and killed
  when the test ends. Each sentinel has a config file of its own in a
  temporary directory (sentinels rewrite theirs).
  """
  alias Analytics.{Eventually, RedisServer}

  defstruct [:primary, :replica, :sentinels, :dir]

  @group "mymaster"

  def group, do: @group

  @doc "Starts everything and returns once every sentinel knows the replica."
  def start! do
    dir = Path.join(System.tmp_dir!(), "analytics-sentinel-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    ExUnit.Callbacks.on_exit(fn -> File.rm_rf(dir) end)

    # A replica saves the primary's data as dump.rdb in its directory (and
    # a primary turned replica too), where every later server would load it.
    primary = RedisServer.start!(["--dir", dir])

    replica =
      RedisServer.start!([
        "--dir",
        dir,
        "--replicaof",
        "127.0.0.1",
        Integer.to_string(primary.port)
      ])

    sentinels =
      for i <- 1..3 do
        config = Path.join(dir, "sentinel-#{i}.conf")

        File.write!(config, """
        sentinel monitor #{@group} 127.0.0.1 #{primary.port} 2
        sentinel down-after-milliseconds #{@group} 1000
        sentinel failover-timeout #{@group} 5000
        sentinel parallel-syncs #{@group} 1
        """)

        RedisServer.start_sentinel!(config)
      end

    setup = %__MODULE__{primary: primary, replica: replica, sentinels: sentinels, dir: dir}

    known? = fn ->
      Enum.all?(sentinels, fn s ->
        cli(s.port, ["SENTINEL", "REPLICAS", @group]) =~ "#{replica.port}" and
          cli(s.port, ["SENTINEL", "SENTINELS", @group])
          |> String.split("\n")
          |> Enum.count(&(&1 == "name")) == 2
      end)
    end

    Eventually.wait_until(known?, 20_000) || raise("the sentinels did not find each other")
    setup
  end

  def urls(%__MODULE__{sentinels: sentinels}), do: Enum.map(sentinels, &RedisServer.url/1)

  @doc "The port the sentinels name as the primary now (asked of the first that answers)."
  def primary_port(%__MODULE__{sentinels: sentinels}) do
    Enum.find_value(sentinels, fn s ->
      case String.split(cli(s.port, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", @group]), "\n") do
        [_ip, port] -> String.to_integer(port)
        _ -> nil
      end
    end)
  end

  def cli(port, args) do
    {out, _} =
      System.cmd("redis-cli", ["-p", Integer.to_string(port) | args], stderr_to_stdout: true)

    String.trim(out)
  end
end
