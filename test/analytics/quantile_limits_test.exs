defmodule Analytics.QuantileLimitsTest do
  # Interpolated quantiles cannot overflow for finite inputs, even when the
  # two neighbouring order statistics lie at opposite ends of the f64 range
  # (NumPy answers inf and -inf here), on every path that interpolates.
  use ExUnit.Case, async: true
  require Analytics
  alias Analytics.Series

  @max_f64 1.7976931348623157e308
  @reducers [:median, {:quantile, 0.25}, {:quantile, 0.99}]

  defp columns(result),
    do: Map.new(result, fn {name, series} -> {name, Series.to_list(series)} end)

  test "plain and fused reductions" do
    s = Series.from_list([1.0e308, -1.0e308])
    expected = %{:median => 0.0, {:quantile, 0.25} => -5.0e307, {:quantile, 0.99} => 9.8e307}

    for result <- [
          Analytics.reduce(s, @reducers),
          Analytics.reduce([1.0e308, -1.0e308], @reducers),
          Analytics.reduce(s, @reducers, where: Analytics.expr(not is_nan(x))),
          Analytics.reduce(s, @reducers, map: Analytics.expr(x * 1))
        ] do
      for {reducer, value} <- expected do
        assert_in_delta result[reducer], value, abs(value) * 1.0e-12
      end
    end

    assert Analytics.reduce([@max_f64, -@max_f64], :median) == 0.0

    assert_in_delta Analytics.reduce([@max_f64, -@max_f64], {:quantile, 0.75}),
                    @max_f64 / 2,
                    1.0e295

    assert Analytics.reduce([@max_f64, @max_f64], {:quantile, 0.3}) == @max_f64
    assert Analytics.reduce([-@max_f64, -@max_f64], {:quantile, 0.3}) == -@max_f64
  end

  test "monotonic in q between the widest neighbours" do
    s = Series.from_list([@max_f64, -@max_f64])
    values = for i <- 0..200, do: Analytics.reduce(s, {:quantile, i / 200})
    assert Enum.all?(values, &is_float/1)
    assert values == Enum.sort(values)
    assert {List.first(values), List.last(values)} == {-@max_f64, @max_f64}
  end

  test "infinities and NaN next to the limits" do
    assert Analytics.reduce([1.0e308, :infinity], :median) == :infinity
    assert Analytics.reduce([:neg_infinity, 1.0e308], :median) == :neg_infinity
    assert Analytics.reduce([:neg_infinity, :infinity], :median) == :nan
    assert Analytics.reduce([:infinity, :infinity], :median) == :infinity
    assert Analytics.reduce([1.0e308, -1.0e308, :nan], :median) == :nan
  end

  test "i64 columns at the limits give an f64 between them" do
    ints = Series.from_list([9_223_372_036_854_775_807, -9_223_372_036_854_775_808], :i64)
    assert Analytics.reduce(ints, :median) == 0.0
    assert_in_delta Analytics.reduce(ints, {:quantile, 0.75}), 4.611686018427388e18, 1.0e4
  end

  test "grouped and bucketed quantiles" do
    keys = Series.from_list([1, 2, 1, 2, 3], :i64)
    values = Series.from_list([1.0e308, @max_f64, -1.0e308, -@max_f64, 5.0])

    assert %{keys: [1, 2, 3], median: [0.0, 0.0, 5.0]} =
             columns(Analytics.group_reduce(keys, values, [:median]))

    [q1, q2, q3] =
      columns(Analytics.group_reduce(keys, values, {:quantile, 0.25}))[{:quantile, 0.25}]

    assert_in_delta q1, -5.0e307, 1.0e295
    assert_in_delta q2, -@max_f64 / 2, 1.0e295
    assert q3 == 5.0

    timestamps = Series.from_list([0, 60, 10, 70, 130], :i64)

    assert %{buckets: [0, 60, 120], median: [0.0, 0.0, 5.0]} =
             columns(Analytics.bucket_reduce(timestamps, values, 60, :median))
  end
end
