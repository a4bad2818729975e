defmodule AnalyticsService.Loader do
  @moduledoc """
  Fills Redis with synthetic metrics that look like a fleet's: `kind.host`
  series (`cpu.web-01`, `latency_ms.web-07`, ...), one point every `step`
  seconds up to now, each following a daily cycle (quiet nights, busy
  afternoons in UTC) with noise.

  Generating is native too: the noise is an AES-CTR keystream (fast and
  repeatable from the seed), the shapes are `Analytics.map/2` expressions,
  and the packed columns go to Redis with `SET`s pipelined over the
  library's connection, ten metrics at a time.
  """
  require Analytics
  alias Analytics.{Redis, Series}
  alias AnalyticsService.Metrics

  @kinds ~w(cpu latency_ms requests memory_mb errors)
  @metrics_per_pipeline 10
  # 2^-63: turns a random i64 into a uniform value in [-1, 1).
  @unit 1.0842021724855044e-19

  @doc """
  Writes the metrics and returns their names.

  Options: `:metrics` (default 100; five kinds per host), `:points` per
  metric (default 1,000,000), `:step` in seconds (default 10), `:seed`
  (default 1) and `:ends_at` (unix seconds, default now).
  """
  @spec load(Redis.conn(), keyword()) :: [String.t()]
  def load(conn, opts \\ []) do
    count = Keyword.get(opts, :metrics, 100)
    points = Keyword.get(opts, :points, 1_000_000)
    step = Keyword.get(opts, :step, 10)
    seed = Keyword.get(opts, :seed, 1)
    ends_at = Keyword.get(opts, :ends_at, System.os_time(:second))

    last = ends_at - rem(ends_at, step)
    starts_at = last - step * (points - 1)

    timestamps =
      Series.from_binary(
        for(i <- 0..(points - 1), into: <<>>, do: <<starts_at + i * step::signed-native-64>>),
        :i64
      )

    # 0 at midnight UTC, 1 at noon: a smooth daily cycle.
    day =
      Analytics.map(
        %{t: timestamps},
        Analytics.expr((1 - (2 * (t / 86400 - floor(t / 86400)) - 1) ** 2) ** 2)
      )

    zeros = :binary.copy(<<0>>, points * 8)

    names = names(count)

    names
    |> Enum.chunk_every(@metrics_per_pipeline)
    |> Enum.each(fn chunk ->
      commands =
        Enum.flat_map(chunk, fn name ->
          {ts_key, values_key} = Metrics.keys(name)
          values = values(name, day, noise(seed, name, 0, zeros), noise(seed, name, 1, zeros))

          [
            ["SET", ts_key, Series.to_binary(timestamps)],
            ["SET", values_key, Series.to_binary(values)]
          ]
        end)

      {:ok, replies} = Redis.pipeline(conn, commands, timeout: 120_000)
      Enum.each(replies, &("OK" = &1))
    end)

    names
  end

  @doc "The names `load/2` writes for `count` metrics."
  @spec names(pos_integer()) :: [String.t()]
  def names(count) do
    hosts = div(count + length(@kinds) - 1, length(@kinds))

    for(
      host <- 1..hosts,
      kind <- @kinds,
      do: "#{kind}.web-#{String.pad_leading("#{host}", 2, "0")}"
    )
    |> Enum.take(count)
  end

  # Random i64s from the keystream of AES-128-CTR keyed by seed, name and stream.
  defp noise(seed, name, stream, zeros) do
    key = :crypto.hash(:md5, "#{seed}/#{name}/#{stream}")
    bytes = :crypto.crypto_one_time(:aes_128_ctr, key, <<0::128>>, zeros, true)
    Series.from_binary(bytes, :i64)
  end

  defp values(name, day, u, w) do
    [kind, host] = String.split(name, ".", parts: 2)
    # Hosts differ a little in load.
    scale = 0.8 + :erlang.phash2(host, 400) / 1000
    # u and w are :i64, where integer arithmetic is exact and would overflow:
    # scaling by unit (2^-63, so exactly) first makes each term a float.
    unit = @unit
    columns = %{b: day, u: u, w: w}

    expression =
      case kind do
        "cpu" ->
          Analytics.expr(min(max(^scale * (15 + 55 * b) + 6 * (^unit * u + ^unit * w), 0), 100))

        "latency_ms" ->
          Analytics.expr(^scale * exp(3 + 0.6 * b + 0.3 * (^unit * u + ^unit * w)))

        "requests" ->
          Analytics.expr(max(floor(^scale * (200 + 900 * b) + 60 * (^unit * u + ^unit * w)), 0))

        "memory_mb" ->
          Analytics.expr(2048 * ^scale + 600 * b + 30 * (^unit * u))

        "errors" ->
          Analytics.expr(max(floor(3 * b + 2.5 * (^unit * u) - 0.5), 0))
      end

    Analytics.map(columns, expression)
  end
end
