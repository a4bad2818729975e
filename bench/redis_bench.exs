# Analytics.Redis against eredis (Debian's erlang-redis-client) and
# redis-benchmark, on loopback, in one run. Starts its own redis-server.
#
#   bash bench/redis_bench.sh     (installs eredis and redis-tools first)
#
# Ratios are (reference time) / (Analytics time): higher is better.
Code.require_file("bench_helper.exs", __DIR__)
Code.require_file("local_redis.exs", __DIR__)
alias BenchHelper, as: B
alias Analytics.Redis

defmodule RedisBench do
  @moduledoc false

  # What an Erlang user does with eredis: fetch, then parse each element.
  def eredis_lrange_numbers(client, key) do
    {:ok, items} = :eredis.q(client, ["LRANGE", key, "0", "-1"], 60_000)
    Enum.map(items, &to_number/1)
  end

  defp to_number(bin) do
    case Float.parse(bin) do
      {f, ""} -> f
      _ -> raise "not a number: #{bin}"
    end
  end

  def eredis_packed(client, key) do
    {:ok, bin} = :eredis.q(client, ["GET", key], 60_000)
    for <<x::float-native-64 <- bin>>, do: x
  end

  # GETs per second from `callers` processes calling `fun` (`per_call` GETs
  # each) for `seconds`, long enough that start-up does not count.
  def throughput(callers, seconds, per_call, fun) do
    deadline = System.monotonic_time(:millisecond) + seconds * 1000

    call = fn -> {:ok, _} = fun.() end
    before_deadline = fn -> System.monotonic_time(:millisecond) < deadline end

    {us, calls} =
      :timer.tc(fn ->
        BenchHelper.start_loops(callers, call, before_deadline)
        |> Task.await_many(seconds * 1000 + 120_000)
        |> Enum.sum()
      end)

    calls * per_call / (us / 1_000_000)
  end

  # The physical limit (bench/redis_socket_bench.cpp): the same command on a
  # plain socket, exactly the reply's bytes read into a warm buffer. One port
  # per command; each newline asks it for one sample, timed on its side.
  def socket_reference(port, command) do
    exe = System.fetch_env!("REDIS_SOCKET_BENCH")

    Port.open({:spawn_executable, exe}, [
      :binary,
      {:line, 256},
      args: ["#{port}" | command]
    ])
  end

  def socket_sample_us(ref) do
    Port.command(ref, "\n")

    receive do
      {^ref, {:data, {:eol, line}}} -> line |> String.split() |> hd() |> String.to_float()
    after
      120_000 -> raise "redis_socket_bench gave no sample"
    end
  end

  # `fun` against the socket reference, samples taken in turn so that a noisy
  # stretch of a shared machine lands on both: {median us ours, median us of
  # the socket read, median of the paired ratios socket/ours}.
  def paired_with_socket(fun, ref, pairs) do
    fun.()
    socket_sample_us(ref)

    samples =
      for _ <- 1..pairs do
        {us, {:ok, _}} = :timer.tc(fun)
        {us, socket_sample_us(ref)}
      end

    median = fn list -> list |> Enum.sort() |> Enum.at(div(length(list), 2)) end
    {ours, socket} = Enum.unzip(samples)
    {median.(ours), median.(socket), median.(Enum.map(samples, fn {o, s} -> s / o end))}
  end

  def load(conn) do
    floats = for i <- 1..1_000_000, do: i * 0.25

    for chunk <- Enum.chunk_every(floats, 50_000),
        do: {:ok, _} = Redis.command(conn, ["RPUSH", "l1m" | Enum.map(chunk, &Float.to_string/1)])

    packed = :binary.copy(<<1.5::float-native-64>>, 8 * 1024 * 1024)
    {:ok, "OK"} = Redis.command(conn, ["SET", "packed64m", packed], timeout: 60_000)
  end

  # SET first, so that the GETs read a real value (a GET of a missing key is nil).
  def redis_benchmark(port, args) do
    {out, 0} =
      System.cmd("redis-benchmark", [
        "-h",
        "127.0.0.1",
        "-p",
        "#{port}",
        "-q",
        "-t",
        "set,get" | args
      ])

    [_, rps] = Regex.run(~r/GET: ([\d.]+) requests per second/, out)
    String.to_float(rps)
  end
end

{port, _} = server = LocalRedis.start()
os_threads = fn -> length(File.ls!("/proc/self/task")) end
threads_before = os_threads.()
{:ok, conn} = Redis.start_link(port: port, sync_connect: true)
{:ok, eredis} = :eredis.start_link(~c"127.0.0.1", port)
IO.puts("machine: #{B.machine()}; redis-server on 127.0.0.1:#{port}\n")

{:ok, "OK"} = Redis.command(conn, ["SET", "small", "12345"])
# Loaded from a task: the million floats and the 64 MiB binary must not stay
# on the measuring process's heap, where every GC would copy them.
Task.async(fn -> RedisBench.load(conn) end) |> Task.await(:infinity)
gets = for _ <- 1..1000, do: ["GET", "small"]

# OS threads of the BEAM as connections are added: the reactor's IO
# threads (io_threads, default 1) serve them all.
thread_counts =
  for target <- [1, 10, 200], reduce: {[conn], []} do
    {conns, rows} ->
      more =
        for _ <- (length(conns) + 1)..target//1 do
          {:ok, extra} = Redis.start_link(port: port, sync_connect: true)
          extra
        end

      conns = conns ++ more
      true = Enum.all?(conns, &(Redis.command(&1, ["PING"]) == {:ok, "PONG"}))
      {conns, rows ++ [{target, os_threads.()}]}
  end

{all_conns, rows} = thread_counts
Enum.each(tl(all_conns), &Redis.stop/1)
Process.sleep(200)
IO.puts("OS threads of the BEAM: #{threads_before} before any connection")
for {n, threads} <- rows, do: IO.puts("  with #{n} connections: #{threads}")
IO.puts("  back to 1 connection: #{os_threads.()}\n")

widths = [40, 14, 14, 8]
IO.puts("Medians of samples taken in turn; the ratio is the median of the paired ratios.")
B.row(["work", "analytics us", "eredis us", "ratio"], widths)

for {label, ours, theirs} <- [
      {"single GET round trip", fn -> Redis.command(conn, ["GET", "small"]) end,
       fn -> :eredis.q(eredis, ["GET", "small"]) end},
      {"1,000 pipelined GETs", fn -> Redis.pipeline(conn, gets) end,
       fn -> :eredis.qp(eredis, gets) end},
      {"LRANGE 1M numbers into f64",
       fn -> Redis.fetch(conn, {:lrange, "l1m", 0, -1, :f64}, timeout: 60_000) end,
       fn -> RedisBench.eredis_lrange_numbers(eredis, "l1m") end},
      {"64 MiB packed GET into f64",
       fn -> Redis.fetch(conn, {:get, "packed64m", :f64}, timeout: 60_000) end,
       fn -> RedisBench.eredis_packed(eredis, "packed64m") end}
    ] do
  # Each row in a fresh process: one row's garbage is not the next row's GC.
  {t_ours, t_theirs, ratio} =
    Task.async(fn -> B.paired_us(ours, theirs) end) |> Task.await(:infinity)

  B.row([label, t_ours, t_theirs, ratio], widths)
end

IO.puts("""

Against the socket limit: the same command on a plain socket reading exactly
the reply's bytes into a warm buffer (bench/redis_socket_bench.cpp), paired.
""")

socket_widths = [40, 14, 14, 8]
B.row(["work", "analytics us", "socket us", "ratio"], socket_widths)

for {label, command, spec} <- [
      {"LRANGE 1M numbers into f64", ["LRANGE", "l1m", "0", "-1"], {:lrange, "l1m", 0, -1, :f64}},
      {"64 MiB packed GET into f64", ["GET", "packed64m"], {:get, "packed64m", :f64}}
    ] do
  fetch = fn -> Redis.fetch(conn, spec, timeout: 60_000) end

  # The port talks to the process that opened it: the task opens its own.
  {t_ours, t_socket, ratio} =
    Task.async(fn ->
      ref = RedisBench.socket_reference(port, command)
      result = RedisBench.paired_with_socket(fetch, ref, 11)
      Port.close(ref)
      result
    end)
    |> Task.await(:infinity)

  B.row([label, t_ours, t_socket, ratio], socket_widths)
end

IO.puts("\nPipelined GET throughput against redis-benchmark (-P 32, 50 clients)")
ours_rps = RedisBench.throughput(8, 3, 1000, fn -> Redis.pipeline(conn, gets) end)
bench_rps = RedisBench.redis_benchmark(port, ["-P", "32", "-n", "5000000"])
IO.puts("analytics, 8 callers x 1,000-GET pipelines:     #{round(ours_rps)} GET/s")

IO.puts(
  "redis-benchmark GET -P 32:                     #{round(bench_rps)} GET/s  ratio #{Float.round(ours_rps / bench_rps, 2)}"
)

value8k = :binary.copy(<<2.0::float-native-64>>, 1024)
{:ok, _} = Redis.pipeline(conn, for(i <- 1..100, do: ["SET", "v8k:#{i}", value8k]))
specs = for i <- 1..100, do: {:get, "v8k:#{i}", :f64}
ours_8k = RedisBench.throughput(8, 3, 100, fn -> Redis.fetch_many(conn, specs) end)
bench_8k = RedisBench.redis_benchmark(port, ["-P", "32", "-d", "8192", "-n", "500000"])
IO.puts("analytics, 8 callers x fetch_many of 100 8 KiB: #{round(ours_8k)} GET/s")

IO.puts(
  "redis-benchmark GET -P 32 -d 8192:             #{round(bench_8k)} GET/s  ratio #{Float.round(ours_8k / bench_8k, 2)}"
)

IO.puts("""

Scheduler wake-up probe: a process sleeping 1 ms, p99 of how late it wakes
(Process.sleep/1 rounds up to the next 1 ms timer tick, so idle is ~1 ms).
The references load the same BEAM without this library: 50 processes doing
the same LRANGE through eredis, and 50 processes calling an echo GenServer.
""")

defmodule RedisBench.Echo do
  @moduledoc false
  use GenServer
  def init(state), do: {:ok, state}
  def handle_call(:ping, _from, state), do: {:reply, :pong, state}
end

{:ok, echo} = GenServer.start_link(RedisBench.Echo, nil)
{:ok, _} = Redis.command(conn, ["RPUSH", "l1k" | Enum.map(1..1000, &Integer.to_string/1)])
idle_p99 = B.probe_p99(2000)
probe_widths = [44, 10, 12, 14]
B.row(["while 50 processes loop on", "p99 us", "extra us", "calls done"], probe_widths)
B.row(["nothing (idle)", idle_p99, 0, 0], probe_widths)

for {label, fun} <- [
      {"analytics fetch, LRANGE 1,000 into :i64",
       fn -> Redis.fetch(conn, {:lrange, "l1k", 0, -1, :i64}) end},
      {"eredis LRANGE 1,000 + String.to_integer",
       fn ->
         {:ok, items} = :eredis.q(eredis, ["LRANGE", "l1k", "0", "-1"])
         Enum.map(items, &String.to_integer/1)
       end},
      {"GenServer.call to an echo process", fn -> GenServer.call(echo, :ping) end}
    ] do
  {p99, calls} = B.probe_p99_under_load(2000, 50, fun)
  B.row([label, p99, p99 - idle_p99, calls], probe_widths)
end

LocalRedis.stop(server)
