# fetch_many of 30,000 keys (lists of 100 numbers) over a 3-master Redis
# Cluster against the same data on one redis-server, paired in one run.
# Starts its own servers on loopback (cluster nodes on ports whose bus port,
# port + 10000, is free) and kills them at the end. About a minute.
#
#   MIX_ENV=prod mix run bench/cluster_bench.exs
#
# The ratio is (one server's time) / (cluster time): above 1, the cluster
# is faster; on a 2-core machine the three servers share the cores with the
# BEAM, so a cluster cannot be much faster here.
Code.require_file("bench_helper.exs", __DIR__)
Code.require_file("local_redis.exs", __DIR__)
alias BenchHelper, as: B
alias Analytics.Redis

defmodule ClusterBench do
  @moduledoc false

  def start_cluster(dir, count) do
    ports = ports(count, [])

    nodes =
      for port <- ports do
        args =
          ["--port", "#{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"] ++
            [
              "--cluster-enabled",
              "yes",
              "--cluster-config-file",
              Path.join(dir, "n-#{port}.conf")
            ] ++
            ["--dir", dir]

        erl_port =
          Port.open({:spawn_executable, System.find_executable("redis-server")}, [
            :binary,
            args: args
          ])

        {:os_pid, os_pid} = Port.info(erl_port, :os_pid)
        wait(port, 100)
        {port, os_pid}
      end

    {out, 0} =
      System.cmd(
        "redis-cli",
        ["--cluster", "create" | Enum.map(ports, &"127.0.0.1:#{&1}")] ++ ["--cluster-yes"],
        stderr_to_stdout: true
      )

    true = String.contains?(out, "All 16384 slots covered")
    wait_ok(ports, 200)
    nodes
  end

  defp ports(0, acc), do: acc

  defp ports(n, acc) do
    port = 20_000 + :rand.uniform(25_535)

    if port not in acc and free?(port) and free?(port + 10_000),
      do: ports(n - 1, [port | acc]),
      else: ports(n, acc)
  end

  defp free?(port) do
    case :gen_tcp.listen(port, ip: {127, 0, 0, 1}) do
      {:ok, s} ->
        :gen_tcp.close(s)
        true

      _ ->
        false
    end
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

  defp wait_ok(ports, tries) do
    ok? =
      Enum.all?(ports, fn port ->
        {info, _} = System.cmd("redis-cli", ["-p", "#{port}", "CLUSTER", "INFO"])
        String.contains?(info, "cluster_state:ok")
      end)

    cond do
      ok? -> :ok
      tries > 0 -> Process.sleep(50) && wait_ok(ports, tries - 1)
      true -> raise "the cluster did not settle"
    end
  end

  def load(conn, keys) do
    values = Enum.map(1..100, &(&1 * 0.5))

    keys
    |> Enum.chunk_every(1_000)
    |> Enum.each(fn chunk ->
      Redis.pipeline!(conn, for(k <- chunk, do: ["RPUSH", k | values]), timeout: 60_000)
    end)
  end

  # Moves `slots` with their keys from the master at `from` to the one at
  # `to` (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE on every node),
  # behind the client's back.
  def reshard(ports, slots, from, to) do
    conns =
      Map.new(ports, fn port ->
        {:ok, conn} = Redis.start_link(port: port, sync_connect: true)
        {port, conn}
      end)

    from_id = Redis.command!(conns[from], ["CLUSTER", "MYID"])
    to_id = Redis.command!(conns[to], ["CLUSTER", "MYID"])

    for slot <- slots do
      "OK" = Redis.command!(conns[to], ["CLUSTER", "SETSLOT", slot, "IMPORTING", from_id])
      "OK" = Redis.command!(conns[from], ["CLUSTER", "SETSLOT", slot, "MIGRATING", to_id])

      case Redis.command!(conns[from], ["CLUSTER", "GETKEYSINSLOT", slot, 1_000]) do
        [] ->
          :ok

        keys ->
          "OK" =
            Redis.command!(conns[from], ["MIGRATE", "127.0.0.1", to, "", 0, 60_000, "KEYS" | keys])
      end

      for port <- [to, from | ports -- [to, from]],
          do: "OK" = Redis.command!(conns[port], ["CLUSTER", "SETSLOT", slot, "NODE", to_id])
    end

    Enum.each(conns, fn {_, conn} -> Redis.stop(conn) end)
  end

  # CPU seconds a process has used (utime + stime from /proc).
  def cpu_s(os_pid) do
    fields =
      File.read!("/proc/#{os_pid}/stat") |> String.split(") ") |> List.last() |> String.split()

    (String.to_integer(Enum.at(fields, 11)) + String.to_integer(Enum.at(fields, 12))) / 100
  end
end

dir = Path.join(System.tmp_dir!(), "cluster-bench-#{System.unique_integer([:positive])}")
File.mkdir_p!(dir)
nodes = ClusterBench.start_cluster(dir, 3)
single = LocalRedis.start()

try do
  {:ok, cluster} =
    Redis.start_link(
      cluster: for({port, _} <- nodes, do: "redis://127.0.0.1:#{port}"),
      sync_connect: true
    )

  {:ok, one} = Redis.start_link(port: elem(single, 0), sync_connect: true)
  keys = for i <- 1..30_000, do: "series:#{i}"
  ClusterBench.load(cluster, keys)
  ClusterBench.load(one, keys)
  specs = for k <- keys, do: {:lrange, k, 0, -1, :f64}

  # Both give the same 30,000 series.
  {:ok, a} = Redis.fetch_many(cluster, specs, timeout: 60_000)
  {:ok, b} = Redis.fetch_many(one, specs, timeout: 60_000)
  true = Enum.map(a, &Analytics.Series.to_list/1) == Enum.map(b, &Analytics.Series.to_list/1)

  split =
    for node <- Analytics.Redis.Cluster.masters(cluster),
        do: Redis.command!(node, ["DBSIZE"])

  cpu_before = Enum.map(nodes, fn {_, pid} -> ClusterBench.cpu_s(pid) end)
  single_before = ClusterBench.cpu_s(elem(single, 1))

  {cluster_us, one_us, ratio} =
    B.paired_us(
      fn -> {:ok, _} = Redis.fetch_many(cluster, specs, timeout: 60_000) end,
      fn -> {:ok, _} = Redis.fetch_many(one, specs, timeout: 60_000) end
    )

  cluster_cpu =
    Enum.sum(Enum.map(nodes, fn {_, pid} -> ClusterBench.cpu_s(pid) end)) - Enum.sum(cpu_before)

  single_cpu = ClusterBench.cpu_s(elem(single, 1)) - single_before

  IO.puts("fetch_many of 30,000 lists of 100 numbers (3,000,000 values)")
  IO.puts("  keys per master: #{Enum.join(split, " / ")}")
  IO.puts("  3-master cluster: #{Float.round(cluster_us / 1000, 1)} ms (median)")
  IO.puts("  one server:       #{Float.round(one_us / 1000, 1)} ms (median)")
  IO.puts("  one server / cluster (paired median): #{Float.round(ratio, 2)}x")

  IO.puts(
    "  redis-server CPU during the paired runs: cluster #{Float.round(cluster_cpu, 2)} s over 3 servers, " <>
      "one server #{Float.round(single_cpu, 2)} s"
  )

  # A MOVED storm: 5,000 slots (and their keys) move between two masters
  # behind the client's back; the next fetch_many follows every MOVED and
  # reads the slot map once.
  ranges =
    for [first, last, [_, port | _] | _] <- Redis.command!(cluster, ["CLUSTER", "SLOTS"]),
        do: {first, last, port}

  [{first, _last, from}, {_, _, to} | _] = Enum.sort(ranges)
  moved_slots = Enum.to_list(first..(first + 4_999))

  moved_keys =
    Enum.count(keys, &(Analytics.Redis.Cluster.HashSlot.slot(&1) in first..(first + 4_999)))

  {reshard_us, :ok} =
    :timer.tc(fn ->
      ClusterBench.reshard(Enum.map(nodes, &elem(&1, 0)), moved_slots, from, to) && :ok
    end)

  {storm_us, {:ok, after_storm}} =
    :timer.tc(fn -> Redis.fetch_many(cluster, specs, timeout: 60_000) end)

  true =
    Enum.map(after_storm, &Analytics.Series.to_list/1) == Enum.map(b, &Analytics.Series.to_list/1)

  {settled_us, {:ok, _}} = :timer.tc(fn -> Redis.fetch_many(cluster, specs, timeout: 60_000) end)

  IO.puts(
    "MOVED storm: 5,000 slots (#{moved_keys} of the keys) moved in #{Float.round(reshard_us / 1.0e6, 1)} s by SETSLOT/MIGRATE"
  )

  IO.puts(
    "  first fetch_many after it (follows #{moved_keys} MOVED): #{Float.round(storm_us / 1000, 1)} ms"
  )

  IO.puts("  the next one: #{Float.round(settled_us / 1000, 1)} ms")
after
  for {_, os_pid} <- nodes, do: System.cmd("kill", ["#{os_pid}"])
  LocalRedis.stop(single)
  File.rm_rf(dir)
end
