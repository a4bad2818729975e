defmodule Analytics.FusedReduceTest do
  use ExUnit.Case, async: true
  require Analytics
  import Analytics.Approx
  alias Analytics.{Reference, Series}

  @reducers [:sum, :count, :min, :max, :mean, :variance, :argmin, :argmax, :median, :n_distinct]

  defp random_floats(n, seed) do
    :rand.seed(:exsss, {seed, 11, 13})
    for _ <- 1..n//1, do: :rand.uniform() * 4.0 - 2.0
  end

  # The reference: filter and map in Elixir, keeping input rows for positions.
  defp reference(values, map, keep, reducers) do
    kept = values |> Enum.with_index() |> Enum.filter(fn {x, _} -> keep.(x) end)
    mapped = Enum.map(kept, fn {x, _} -> map.(x) end)

    Map.new(reducers, fn reducer ->
      # Mapped values are f64, so an empty sum is 0.0.
      value = Reference.reduce(mapped, reducer)
      value = if mapped == [] and reducer == :sum, do: 0.0, else: value

      value =
        if reducer in [:argmin, :argmax] and value != nil,
          do: kept |> Enum.at(value) |> elem(1),
          else: value

      {reducer, value}
    end)
  end

  test "map, where and every reducer in one pass equal filter |> map |> reduce" do
    for n <- [0, 1, 2, 999, 1024, 1025, 3000], seed <- [1, 2] do
      values = random_floats(n, seed + n)
      series = Series.from_list(values)

      got =
        Analytics.reduce(series, @reducers,
          map: Analytics.expr(x * 2.0 + 1.0),
          where: Analytics.expr(x > 0.5 and not is_nan(x))
        )

      want = reference(values, &(&1 * 2.0 + 1.0), &(&1 > 0.5), @reducers)

      for reducer <- @reducers do
        assert_close(got[reducer], want[reducer], {n, seed, reducer}, 1.0e-9, 1.0e-9)
      end
    end
  end

  test "a filtered i64 column stays exact and keeps its dtype" do
    big = 9_223_372_036_854_775_807
    values = [big, -3, big, 7, big]

    assert Analytics.reduce(values, [:sum, :min, :argmin], where: Analytics.expr(x > 0)) ==
             %{sum: 3 * big + 7, min: 7, argmin: 3}

    assert Analytics.reduce(values, :product, where: Analytics.expr(x < 10)) == -21

    assert Analytics.reduce(values ++ [0], :product, where: Analytics.expr(x != 7)) == 0

    assert_raise ArgumentError, ~r/overflows 128 bits/, fn ->
      Analytics.reduce(values, :product, where: Analytics.expr(x > 0))
    end

    assert Analytics.reduce(values, :sum, map: Analytics.expr(x)) == 3 * big * 1.0 + 4.0
  end

  test "columns by name: where on one, map over others" do
    n = 5000
    latency = random_floats(n, 3)
    :rand.seed(:exsss, {4, 5, 6})
    status = for _ <- 1..n, do: Enum.random([200, 200, 200, 404, 500])
    input = %{latency: Series.from_list(latency), status: Series.from_list(status)}

    got =
      Analytics.reduce(input, [:mean, :count, :max],
        map: Analytics.expr(abs(latency) * 1000),
        where: Analytics.expr(status == 200 or status >= 500)
      )

    kept = for {l, s} <- Enum.zip(latency, status), s == 200 or s >= 500, do: abs(l) * 1000
    assert got.count == length(kept)
    assert_close(got.mean, Enum.sum(kept) / length(kept), :mean)
    assert got.max == Enum.max(kept)
  end

  test "nothing selected gives the empty answers" do
    assert Analytics.reduce([1.0, 2.0], [:sum, :count, :min, :median, :product],
             where: Analytics.expr(x > 100)
           ) == %{sum: 0.0, count: 0, min: nil, median: nil, product: 1.0}
  end

  test "NaN rows: a where decides, otherwise NaN propagates" do
    values = [1.0, :nan, 3.0]
    assert Analytics.reduce(values, :max, map: Analytics.expr(x * 2)) == :nan
    assert Analytics.reduce(values, :max, where: Analytics.expr(not is_nan(x))) == 3.0
    assert Analytics.reduce(values, :argmax, where: Analytics.expr(x != 1.0)) == 1
  end

  test "slices at odd offsets reduce their own rows" do
    values = random_floats(4000, 9)
    series = Series.from_list(values)

    for offset <- [0, 1, 3, 7, 1023, 1025], length <- [0, 1, 5, 1500] do
      slice = Series.slice(series, offset, length)
      rows = Enum.slice(values, offset, length)

      got =
        Analytics.reduce(slice, [:sum, :argmax],
          map: Analytics.expr(x + 1),
          where: Analytics.expr(x < 1)
        )

      want = reference(rows, &(&1 + 1), &(&1 < 1), [:sum, :argmax])
      assert_close(got.sum, want.sum, {offset, length})
      assert got.argmax == want.argmax
    end
  end

  test "map/2 over a large series runs dirty and equals the element-wise reference" do
    values = random_floats(300_000, 12)
    got = Analytics.map(Series.from_list(values), Analytics.expr(x * x - 1)) |> Series.to_list()
    assert got == Enum.map(values, &(&1 * &1 - 1))
  end
end
