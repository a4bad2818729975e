defmodule Analytics.SeriesOrderTest do
  # sort, argsort, head, tail and search_sorted against the pure-Elixir
  # reference, on lists, series and slices at offsets that are not 64-byte
  # aligned, with NaN, infinities, ties and i64 values at the limits.
  use ExUnit.Case, async: true
  alias Analytics.{Reference, Series}

  @max 9_223_372_036_854_775_807
  @min -9_223_372_036_854_775_808
  @sizes [0, 1, 2, 3, 31, 1000, 3001]

  defp floats(n, seed) do
    :rand.seed(:exsss, {seed, n, 17})

    for i <- 0..(n - 1)//1 do
      case rem(i * 7919 + seed, 23) do
        0 -> :nan
        1 -> :infinity
        2 -> :neg_infinity
        3 -> Enum.random([0.0, -0.0, 1.0e308, -1.0e308, 5.0e-324])
        4 -> Enum.random(-3..3) * 1.0
        _ -> :rand.normal() * 1000
      end
    end
  end

  defp ints(n, seed) do
    :rand.seed(:exsss, {seed, n, 29})

    for i <- 0..(n - 1)//1 do
      case rem(i * 7919 + seed, 19) do
        0 -> Enum.random([@max, @min, @max - 1, @min + 1, 2 ** 60 + 1, 2 ** 60])
        1 -> Enum.random(-3..3)
        _ -> :rand.uniform(2 ** 62) - 2 ** 61
      end
    end
  end

  # The series itself, and the same values as a slice starting 1..3 elements
  # into a longer parent.
  defp shapes(values, dtype) do
    pad = [0, 0, 0]

    [Series.from_list(values, dtype)] ++
      for offset <- 1..3 do
        parent = Series.from_list(Enum.take(pad, offset) ++ values ++ pad, dtype)
        Series.slice(parent, offset, length(values))
      end
  end

  test "sort and argsort match the reference, both directions" do
    for n <- @sizes,
        {values, dtype} <- [{floats(n, 1), :f64}, {ints(n, 2), :i64}],
        series <- shapes(values, dtype),
        direction <- [:asc, :desc] do
      assert Series.sort(series, direction: direction) |> Series.to_list() ==
               Reference.sort(values, direction),
             "sort #{dtype} n=#{n} #{direction}"

      sorted = Series.sort(series, direction: direction)
      assert Series.dtype(sorted) == dtype

      assert Series.argsort(series, direction: direction) |> Series.to_list() ==
               Reference.argsort(values, direction),
             "argsort #{dtype} n=#{n} #{direction}"
    end
  end

  test "nan: puts NaN first or last in either direction, as the reference with NaN moved" do
    for n <- @sizes,
        series <- shapes(floats(n, 3), :f64),
        direction <- [:asc, :desc],
        place <- [:first, :last] do
      values = Series.to_list(series)
      {nans, numbers} = values |> Reference.sort(direction) |> Enum.split_with(&(&1 == :nan))
      expected = if place == :first, do: nans ++ numbers, else: numbers ++ nans
      label = "n=#{n} #{direction} nan: #{place}"

      assert Series.sort(series, direction: direction, nan: place) |> Series.to_list() ==
               expected,
             label

      positions = Series.argsort(series, direction: direction, nan: place) |> Series.to_list()
      assert Enum.map(positions, &Enum.at(values, &1)) == expected, label
      # Stable: NaN rows (equal to each other) keep their order.
      nan_rows = for {:nan, i} <- Enum.with_index(values), do: i
      assert Enum.filter(positions, &(&1 in nan_rows)) == nan_rows, label
    end
  end

  test "NaN sorts last ascending and first descending, after :infinity" do
    s = Series.from_list([:nan, 1.0, :infinity, :nan, :neg_infinity])
    assert Series.sort(s) |> Series.to_list() == [:neg_infinity, 1.0, :infinity, :nan, :nan]

    assert Series.sort(s, direction: :desc) |> Series.to_list() == [
             :nan,
             :nan,
             :infinity,
             1.0,
             :neg_infinity
           ]

    assert Series.argsort(s) |> Series.to_list() == [4, 1, 2, 0, 3]
    assert Series.argsort(s, direction: :desc) |> Series.to_list() == [0, 3, 2, 1, 4]
  end

  test "head and tail are slices clamped to the series" do
    s = Series.from_list(Enum.to_list(1..25), :i64)

    for n <- [0, 1, 10, 24, 25, 26, 1000] do
      assert Series.head(s, n) |> Series.to_list() == Enum.take(Enum.to_list(1..25), n)
      assert Series.tail(s, n) |> Series.to_list() == Enum.take(Enum.to_list(1..25), -n)
    end

    assert Series.head(s) |> Series.to_list() == Enum.to_list(1..10)
    assert Series.tail(s) |> Series.to_list() == Enum.to_list(16..25)
    empty = Series.from_list([])
    assert Series.head(empty, 3) |> Series.size() == 0
    assert Series.tail(empty, 3) |> Series.size() == 0
    assert Series.tail(Series.slice(s, 5, 4), 2) |> Series.to_list() == [8, 9]
  end

  test "search_sorted matches counting, for every kind of needle" do
    needles =
      [
        0,
        1,
        -1,
        2.5,
        -0.0,
        :nan,
        :infinity,
        :neg_infinity,
        1.0e308,
        @max,
        @min,
        2 ** 60,
        2 ** 60 + 1
      ] ++
        [
          2 ** 70,
          -(2 ** 70),
          2 ** 70 + 1,
          -(2 ** 70) - 1,
          10 ** 400,
          -(10 ** 400),
          2.0 ** 60,
          2.0 ** 70
        ]

    for n <- @sizes, {values, dtype} <- [{floats(n, 3), :f64}, {ints(n, 4), :i64}] do
      sorted_values = Reference.sort(values, :asc)
      [series | slices] = shapes(sorted_values, dtype)

      for s <- [series | slices],
          needle <- needles ++ Enum.take(sorted_values, 5),
          side <- [:left, :right] do
        assert Series.search_sorted(s, needle, side: side) ==
                 Reference.search_sorted(sorted_values, needle, side),
               "#{dtype} n=#{n} needle=#{inspect(needle)} #{side}"
      end

      # A list of needles gives the list of their indices, in order.
      for side <- [:left, :right] do
        assert Series.search_sorted(series, needles, side: side) ==
                 Enum.map(needles, &Reference.search_sorted(sorted_values, &1, side)),
               "#{dtype} n=#{n} every needle #{side}"
      end
    end

    s = Series.from_list([1.0, 2.0])
    assert Series.search_sorted(s, []) == []

    assert_raise ArgumentError, ~r/search_sorted's value must be a number.*got: "2"/, fn ->
      Series.search_sorted(s, [1, "2"])
    end
  end

  test "nanosecond timestamps beyond 2^53 are searched exactly" do
    base = 1_700_000_000_000_000_000
    ts = Series.from_list(Enum.map(0..9, &(base + &1)), :i64)
    assert Series.search_sorted(ts, base + 5) == 5
    assert Series.search_sorted(ts, base + 5, side: :right) == 6
    # base + 5 is not a float: the nearest float, 1.7e18 + 0 or + 256, orders exactly.
    assert Series.search_sorted(ts, base * 1.0) == 0
    assert Series.search_sorted(ts, base * 1.0, side: :right) == 1
  end

  test "bad arguments raise ArgumentError naming them" do
    s = Series.from_list([1.0])

    assert_raise ArgumentError, ~r/sort's :direction must be :asc or :desc, got: :up/, fn ->
      Series.sort(s, direction: :up)
    end

    assert_raise ArgumentError, ~r/argsort's :nan must be :first or :last, got: :top/, fn ->
      Series.argsort(s, nan: :top)
    end

    assert_raise ArgumentError, ~r/unknown keys \[:nils\]/, fn ->
      Series.argsort(s, nils: :last)
    end

    assert_raise ArgumentError, ~r/:side must be :left or :right, got: :middle/, fn ->
      Series.search_sorted(s, 1, side: :middle)
    end

    assert_raise ArgumentError,
                 ~r/search_sorted's value must be a number, :nan, :infinity or :neg_infinity, got: /,
                 fn ->
                   Series.search_sorted(s, "1")
                 end

    assert_raise ArgumentError, ~r/expected a non-negative integer count, got: -1/, fn ->
      Series.head(s, -1)
    end

    assert_raise ArgumentError, ~r/expected an %Analytics.Series\{\}, got: \[1\]/, fn ->
      Series.tail([1], 1)
    end

    assert_raise ArgumentError, ~r/Analytics.Series/, fn -> Series.sort([1.0]) end
    assert_raise ArgumentError, ~r/Analytics.Series/, fn -> Series.search_sorted(:x, 1) end
  end

  test "a large sort and argsort (the dirty-scheduler path) match the reference" do
    values = floats(100_000, 5)
    s = Series.from_list(values)
    sorted = Series.sort(s) |> Series.to_list()
    assert sorted == Reference.sort(values, :asc)
    positions = Series.argsort(s, direction: :desc) |> Series.to_list()

    assert positions == Reference.argsort(values, :desc)
  end
end
