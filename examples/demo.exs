# The main job for now: starts a local redis-server, stores synthetic request
# metrics in it, fetches them into native columns with Analytics.Redis, and
# prints reductions with their times next to pure Elixir's.
#
#   bash scripts/demo.sh        (installs, builds and runs this)
Code.require_file("../bench/local_redis.exs", __DIR__)
alias Analytics.{Redis, Series}

defmodule Demo do
  @moduledoc false

  def time(fun) do
    {us, value} = :timer.tc(fun)
    {value, us}
  end

  def show(label, {value, native_us}, elixir_us) do
    IO.puts(
      String.pad_trailing(label, 34) <>
        String.pad_trailing(if(is_map(value), do: "(below)", else: inspect(value)), 34) <>
        String.pad_leading("#{native_us} us", 12) <>
        String.pad_leading("#{elixir_us} us", 14) <>
        String.pad_leading("#{Float.round(elixir_us / max(native_us, 1), 1)}x", 10)
    )
  end
end

n = 2_000_000
IO.puts("analytics demo: #{n} synthetic requests; #{inspect(Analytics.info())}\n")
:rand.seed(:exsss, {2026, 11, 25})

{latencies, build_us} =
  Demo.time(fn ->
    # Log-normal latencies in ms, with a few timeouts recorded as infinity.
    for i <- 1..n do
      if rem(i, 100_000) == 0, do: :infinity, else: :math.exp(3.0 + 0.5 * :rand.normal())
    end
  end)

bytes = for _ <- 1..n, do: :rand.uniform(1_000_000)
IO.puts("built the data in #{div(build_us, 1000)} ms")

{redis_port, _} = redis = LocalRedis.start()
{:ok, conn} = Redis.start_link(port: redis_port)

{_, store_us} =
  Demo.time(fn ->
    text = Enum.map(latencies, fn :infinity -> "inf"; x -> Float.to_string(x) end)
    pushes = text |> Enum.chunk_every(20_000) |> Enum.map(&["RPUSH", "requests:latency_ms" | &1])
    {:ok, _} = Redis.pipeline(conn, pushes, timeout: 60_000)
    packed = for b <- bytes, into: <<>>, do: <<b::signed-native-64>>
    {:ok, "OK"} = Redis.command(conn, ["SET", "requests:bytes", packed], timeout: 60_000)
  end)

IO.puts("stored in redis-server on 127.0.0.1:#{redis_port} (one pipeline) in #{div(store_us, 1000)} ms")

{{:ok, [latency, response_bytes]}, fetch_us} =
  Demo.time(fn ->
    Redis.fetch_many(conn, [{:lrange, "requests:latency_ms", 0, -1, :f64}, {:get, "requests:bytes", :i64}],
      timeout: 60_000
    )
  end)

IO.puts("fetched both into native columns (one round trip) in #{div(fetch_us, 1000)} ms: #{inspect(latency)}\n")
finite = Series.from_list(Enum.reject(latencies, &(&1 == :infinity)))

IO.puts(
  String.pad_trailing("question", 34) <>
    String.pad_trailing("answer", 34) <>
    String.pad_leading("analytics", 12) <> String.pad_leading("pure Elixir", 14) <> String.pad_leading("ratio", 10)
)

finite_list = Series.to_list(finite)
{_, total_us} = Demo.time(fn -> Enum.sum(bytes) end)
Demo.show("total bytes served (exact i64)", Demo.time(fn -> Analytics.reduce(response_bytes, :sum) end), total_us)

{_, max_us} = Demo.time(fn -> Enum.max(latencies, fn a, b -> a == :infinity or (b != :infinity and a >= b) end) end)
Demo.show("slowest request (with timeouts)", Demo.time(fn -> Analytics.reduce(latency, :max) end), max_us)

{_, mean_us} = Demo.time(fn -> Enum.sum(finite_list) / length(finite_list) end)
Demo.show("mean latency, ms", Demo.time(fn -> Analytics.reduce(finite, :mean) end), mean_us)

{_, p99_us} = Demo.time(fn -> finite_list |> Enum.sort() |> Enum.at(round(0.99 * (length(finite_list) - 1))) end)
Demo.show("p99 latency, ms", Demo.time(fn -> Analytics.reduce(finite, {:quantile, 0.99}) end), p99_us)

{_, distinct_us} = Demo.time(fn -> bytes |> MapSet.new() |> MapSet.size() end)
Demo.show("distinct response sizes", Demo.time(fn -> Analytics.reduce(response_bytes, :n_distinct) end), distinct_us)

summary = Demo.time(fn -> Analytics.reduce(finite, [:count, :mean, :standard_deviation, :median, {:quantile, 0.9}]) end)
{_, summary_us} = Demo.time(fn -> {length(finite_list), Enum.sum(finite_list), Enum.sort(finite_list)} end)
Demo.show("summary, 5 reducers at once", summary, summary_us)

IO.puts("\nfull summary: #{inspect(elem(summary, 0))}")
Redis.stop(conn)
LocalRedis.stop(redis)
