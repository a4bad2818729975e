# Pipelined GETs over TLS against plaintext, on one redis-server listening
# both ways (same build, same process), and redis-benchmark's own TLS cost
# on that server for reference. Certificates are made for the run by
# test/support/make_tls_certs.sh and removed afterwards.
#
#   bash bench/redis_bench.sh     (runs this after bench/redis_bench.exs)
#
# Ratios are (plaintext time) / (TLS time): 1.0 means TLS costs nothing.
Code.require_file("bench_helper.exs", __DIR__)
Code.require_file("local_redis.exs", __DIR__)
alias BenchHelper, as: B
alias Analytics.Redis

certs = Path.join(System.tmp_dir!(), "analytics-tls-bench-#{System.os_time()}")
{_, 0} = System.cmd("bash", [Path.expand("../test/support/make_tls_certs.sh", __DIR__), certs])
ca = Path.join(certs, "ca.crt")
tls_port = LocalRedis.free_port()

{port, _} =
  server =
  LocalRedis.start([
    "--tls-port",
    "#{tls_port}",
    "--tls-cert-file",
    Path.join(certs, "server.crt"),
    "--tls-key-file",
    Path.join(certs, "server.key"),
    "--tls-ca-cert-file",
    ca,
    "--tls-auth-clients",
    "no"
  ])

{:ok, plain} = Redis.start_link(port: port, sync_connect: true)
{:ok, tls} = Redis.start_link(port: tls_port, ssl: [cacertfile: ca], sync_connect: true)
IO.puts("machine: #{B.machine()}; redis-server: plain 127.0.0.1:#{port}, TLS :#{tls_port}\n")

{:ok, "OK"} = Redis.command(plain, ["SET", "k", "value-of-16bytes"])
gets = List.duplicate(["GET", "k"], 1000)
{:ok, _} = Redis.pipeline(tls, gets)

IO.puts("1,000 pipelined GETs, one caller (samples taken in turn)")

{plain_us, tls_us, ratio} =
  B.paired_us(fn -> Redis.pipeline(plain, gets) end, fn -> Redis.pipeline(tls, gets) end)

IO.puts(
  "plaintext: #{B.fmt(plain_us)} us   TLS: #{B.fmt(tls_us)} us   TLS/plain throughput: #{Float.round(1 / ratio, 2)}x"
)

# Kilobyte values: the cipher's work per byte shows.
value = :binary.copy("x", 4096)
{:ok, "OK"} = Redis.command(plain, ["SET", "k4k", value])
gets4k = List.duplicate(["GET", "k4k"], 100)

IO.puts("\n100 pipelined GETs of 4 KiB, one caller")

{plain_us, tls_us, ratio} =
  B.paired_us(fn -> Redis.pipeline(plain, gets4k) end, fn -> Redis.pipeline(tls, gets4k) end)

IO.puts(
  "plaintext: #{B.fmt(plain_us)} us   TLS: #{B.fmt(tls_us)} us   TLS/plain throughput: #{Float.round(1 / ratio, 2)}x"
)

bench = fn tls_args ->
  {out, 0} =
    System.cmd(
      "redis-benchmark",
      ["-h", "127.0.0.1", "-q", "-t", "get", "-P", "32", "-n", "300000"] ++ tls_args
    )

  [_, rps] = Regex.run(~r/GET: ([\d.]+) requests per second/, out)
  String.to_float(rps)
end

plain_rps = bench.(["-p", "#{port}"])
tls_rps = bench.(["-p", "#{tls_port}", "--tls", "--cacert", ca])

IO.puts("""

redis-benchmark GET -P 32 on the same server (its own TLS cost, for reference):
plaintext: #{round(plain_rps)} GET/s   TLS: #{round(tls_rps)} GET/s   TLS/plain: #{Float.round(tls_rps / plain_rps, 2)}x
""")

LocalRedis.stop(server)
File.rm_rf!(certs)
