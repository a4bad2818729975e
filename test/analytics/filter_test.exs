defmodule Analytics.FilterTest do
  # Analytics.filter/2 against Enum.filter on lists, series, slices and maps
  # of columns, with NaN, infinities and i64 at the limits.
  use ExUnit.Case, async: true
  require Analytics
  alias Analytics.Series

  @max 9_223_372_036_854_775_807
  @min -9_223_372_036_854_775_808

  defp values(n, seed) do
    :rand.seed(:exsss, {seed, n, 5})

    for i <- 1..n//1 do
      case rem(i, 13) do
        0 -> :nan
        1 -> :infinity
        2 -> :neg_infinity
        _ -> :rand.normal()
      end
    end
  end

  defp above(:nan, _), do: false
  defp above(:infinity, _), do: true
  defp above(:neg_infinity, _), do: false
  defp above(x, limit), do: x > limit

  test "a series or list keeps the rows the predicate selects, in order, across blocks" do
    for n <- [0, 1, 2, 1023, 1024, 1025, 5000] do
      xs = values(n, 1)
      expected = Enum.filter(xs, &above(&1, 0.25))
      series = Series.from_list(xs)
      assert Analytics.filter(xs, Analytics.expr(x > 0.25)) |> Series.to_list() == expected
      assert Analytics.filter(series, Analytics.expr(x > 0.25)) |> Series.to_list() == expected

      if n > 3 do
        slice = Series.slice(series, 3, n - 3)
        result = Analytics.filter(slice, Analytics.expr(x > 0.25))
        assert Series.to_list(result) == Enum.filter(Enum.drop(xs, 3), &above(&1, 0.25))
      end
    end
  end

  test "a map of columns is filtered together, each keeping its dtype" do
    n = 3000
    ts = Enum.map(1..n, &(&1 * 1_000_000_007 + @max - 3000 * 1_000_000_007))
    vs = values(n, 2)
    limit = 0.5

    %{ts: kept_ts, v: kept_v, other: kept_other} =
      Analytics.filter(
        %{ts: ts, v: vs, other: Series.from_list(Enum.to_list(1..n), :i64)},
        Analytics.expr(v > ^limit and ts > 0)
      )

    keep = Enum.zip_with(ts, vs, &(above(&2, limit) and &1 > 0))
    pick = fn list -> for {value, true} <- Enum.zip(list, keep), do: value end
    assert Series.dtype(kept_ts) == :i64 and Series.dtype(kept_v) == :f64
    assert Series.to_list(kept_ts) == pick.(ts)
    assert Series.to_list(kept_v) == pick.(vs)
    assert Series.to_list(kept_other) == pick.(Enum.to_list(1..n))
  end

  test "nothing or everything kept, and the limits of i64 survive" do
    s = Series.from_list([@min, 0, @max], :i64)
    assert Analytics.filter(s, Analytics.expr(x > 1.0e300)) |> Series.to_list() == []
    assert Analytics.filter(s, Analytics.expr(x >= ^@min)) |> Series.to_list() == [@min, 0, @max]

    assert Analytics.filter(s, Analytics.expr(x == 9_223_372_036_854_775_807)) |> Series.to_list() ==
             [@max]

    assert Analytics.filter([], Analytics.expr(x > 0)) |> Series.size() == 0
  end

  test "bad input raises ArgumentError naming it" do
    assert_raise ArgumentError,
                 ~r/filter needs a predicate, got an expression that computes a number/,
                 fn ->
                   Analytics.filter([1.0], Analytics.expr(x + 1))
                 end

    assert_raise ArgumentError, ~r/filter\/2 needs an %Analytics.Expr\{\} predicate/, fn ->
      Analytics.filter([1.0], "x > 1")
    end

    assert_raise ArgumentError, ~r/columns differ in length: 2 and 1/, fn ->
      Analytics.filter(%{a: [1.0, 2.0], b: [1.0]}, Analytics.expr(a > b))
    end

    assert_raise ArgumentError, ~r/expected a Series, a list of numbers or a map of them/, fn ->
      Analytics.filter(:nope, Analytics.expr(x > 1))
    end
  end
end
