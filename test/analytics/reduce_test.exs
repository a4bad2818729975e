defmodule Analytics.ReduceTest do
  use ExUnit.Case, async: true
  import Analytics.Approx
  # The pure-Elixir reference over every edge size takes tens of seconds
  # by itself when the sanitized NIF and other async tests share 2 cores.
  @moduletag timeout: 300_000
  alias Analytics.{Reference, Series}

  doctest Analytics

  @reducers [
    :sum,
    :count,
    :min,
    :max,
    :mean,
    :variance,
    {:variance, ddof: 0},
    :standard_deviation,
    {:standard_deviation, ddof: 0},
    :argmin,
    :argmax,
    :median,
    {:quantile, 0.0},
    {:quantile, 0.1},
    {:quantile, 0.99},
    {:quantile, 1},
    :n_distinct
  ]

  # Sizes around vector widths and block edges, and past the point where the
  # work moves to a dirty scheduler.
  @sizes [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 1023, 1025, 4097, 300_000]

  defp random_floats(n, seed) do
    :rand.seed(:exsss, {seed, 17, 42})
    for _ <- 1..n//1, do: (:rand.uniform() - 0.5) * 2000.0
  end

  defp random_ints(n, seed, range \\ -4_611_686_018_427_387_904..4_611_686_018_427_387_903) do
    :rand.seed(:exsss, {seed, 5, 9})
    span = range.last - range.first + 1
    for _ <- 1..n//1, do: range.first + :rand.uniform(span) - 1
  end

  defp expected(values, reducer, dtype) do
    case {Reference.reduce(values, reducer), dtype} do
      {int, :f64} when is_integer(int) and reducer in [:sum, :product] -> int * 1.0
      {value, _} -> value
    end
  end

  # Float sums cancel; their error is bounded by the sum of magnitudes.
  defp tolerance(values, reducer) when reducer in [:sum, :mean] do
    scale = values |> Enum.map(&abs/1) |> Enum.sum()
    scale = if reducer == :mean and values != [], do: scale / length(values), else: scale
    1.0e-11 * scale + 1.0e-9
  end

  defp tolerance(_values, _reducer), do: 1.0e-9

  defp check_all(values, inputs, dtype, context) do
    for {label, input} <- inputs do
      # An empty list has no floats in it, so it is an :i64 input.
      dtype = if input == [], do: :i64, else: dtype
      all = Analytics.reduce(input, @reducers)

      for reducer <- @reducers do
        want = expected(values, reducer, dtype)
        where = "#{context} #{label} #{inspect(reducer)}"
        assert_close(all[reducer], want, where, 1.0e-9, tolerance(values, reducer))

        assert_close(
          Analytics.reduce(input, reducer),
          want,
          where,
          1.0e-9,
          tolerance(values, reducer)
        )
      end
    end
  end

  describe "against the pure-Elixir reference" do
    test "f64 lists, series and misaligned slices at every edge size" do
      for n <- @sizes do
        values = random_floats(n, n + 1)
        series = Series.from_list(values)
        check_all(values, [list: values, series: series], :f64, "f64 n=#{n}")

        # Slices starting 1..7 elements in: every 8-byte misalignment of a line.
        for offset <- 1..7, n > offset + 1, n < 5000 do
          piece = Series.slice(series, offset, n - offset - 1)

          check_all(
            Enum.slice(values, offset, n - offset - 1),
            [slice: piece],
            :f64,
            "f64 n=#{n}+#{offset}"
          )
        end
      end
    end

    test "i64 lists and series, exactly, at every edge size" do
      for n <- @sizes do
        values = random_ints(n, n + 3)

        check_all(
          values,
          [list: values, series: Series.from_list(values, :i64)],
          :i64,
          "i64 n=#{n}"
        )
      end
    end

    test "n_distinct on data with many repeats" do
      for seed <- 1..5 do
        values = random_ints(50_000, seed, -1000..1000)
        assert Analytics.reduce(values, :n_distinct) == length(Enum.uniq(values))
        floats = Enum.map(values, &(&1 / 4))
        assert Analytics.reduce(floats, :n_distinct) == length(Enum.uniq(floats))
      end
    end

    test "products, exact for i64 and close for f64" do
      for n <- [0, 1, 5, 17, 40] do
        ints = random_ints(n, n, -3..3)
        assert Analytics.reduce(ints, :product) == Reference.reduce(ints, :product)
        floats = Enum.map(random_floats(n, n), &(1.0 + &1 / 10_000))
        series = Series.from_list(floats)

        assert_close(
          Analytics.reduce(series, :product),
          Reference.reduce(floats, :product) * 1.0,
          "f64 n=#{n}"
        )
      end
    end
  end

  describe "empty input" do
    test "follows the contract for both dtypes" do
      assert Analytics.reduce([], [:sum, :count, :product, :n_distinct, :min, :max, :mean]) ==
               %{sum: 0, count: 0, product: 1, n_distinct: 0, min: nil, max: nil, mean: nil}

      empty = Series.from_list([], :f64)

      assert Analytics.reduce(empty, [:sum, :product, :variance, :median, :argmin]) ==
               %{sum: 0.0, product: 1.0, variance: nil, median: nil, argmin: nil}
    end

    test "variance needs more values than ddof" do
      assert Analytics.reduce([5], :variance) == nil
      assert Analytics.reduce([5], {:variance, ddof: 0}) == 0.0
      assert Analytics.reduce([5, 7], {:standard_deviation, ddof: 2}) == nil
    end
  end

  describe "non-finite values" do
    test "NaN propagates through sum, mean, variance, min, max and quantiles" do
      for at <- [0, 5, 99] do
        values = List.replace_at(random_floats(100, at), at, :nan)

        for reducer <- [:sum, :mean, :variance, :min, :max, :median, :product] do
          assert Analytics.reduce(values, reducer) == :nan, "#{reducer} with NaN at #{at}"
        end

        assert Analytics.reduce(values, :argmax) == at
        assert Analytics.reduce(values, :count) == 100
      end
    end

    test "infinities order and sum like IEEE 754" do
      values = [1.0, :infinity, -2.5, :neg_infinity, 3.0]

      assert Analytics.reduce(values, [:min, :max, :argmin, :argmax]) ==
               %{min: :neg_infinity, max: :infinity, argmin: 3, argmax: 1}

      assert Analytics.reduce(values, :sum) == :nan
      assert Analytics.reduce([1.0, :infinity], :sum) == :infinity
      assert Analytics.reduce([:neg_infinity, :neg_infinity], :mean) == :neg_infinity
      assert Analytics.reduce([0.0, -0.0, :nan, :nan], :n_distinct) == 2
    end
  end

  describe "integers" do
    @max 9_223_372_036_854_775_807
    @min -9_223_372_036_854_775_808

    test "sums never wrap, and return bignums" do
      assert Analytics.reduce(List.duplicate(@max, 1000), :sum) == @max * 1000
      assert Analytics.reduce(List.duplicate(@min, 300_000), :sum) == @min * 300_000

      assert Analytics.reduce([@max, @min, @max], [:sum, :min, :max]) == %{
               sum: @max - 1,
               min: @min,
               max: @max
             }

      series = Series.from_list(List.duplicate(@max, 7), :i64)
      assert Analytics.reduce(series, :sum) == @max * 7
    end

    test "the i64 product is exact up to 128 bits and refuses beyond" do
      assert Analytics.reduce([@max, @max], :product) == @max * @max
      assert Analytics.reduce([@min, -1], :product) == -@min

      assert_raise ArgumentError, ~r/overflows 128 bits/, fn ->
        Analytics.reduce([@max, @max, @max], :product)
      end
    end

    test "a float anywhere makes the list f64" do
      assert Analytics.reduce([1, 2, 3.0], :sum) === 6.0
      assert Analytics.reduce([1, 2, 3], :sum) === 6
      assert Analytics.reduce([1, :nan], :count) == 2
    end
  end

  describe "variance accuracy" do
    test "is stable for data far from zero" do
      values = for x <- random_floats(100_000, 7), do: 1.0e9 + x / 1000

      assert_close(
        Analytics.reduce(values, :variance),
        Reference.reduce(values, :variance),
        "offset data",
        1.0e-6
      )
    end
  end

  describe "reducer lists" do
    test "return a map keyed by each reducer as given" do
      result = Analytics.reduce([1, 2, 3, 4], [:median, {:quantile, 0.5}, {:variance, ddof: 0}])
      assert result == %{:median => 2.5, {:quantile, 0.5} => 2.5, {:variance, [ddof: 0]} => 1.25}
    end

    test "one reducer in a list still gives a map" do
      assert Analytics.reduce([1, 2], [:sum]) == %{sum: 3}
    end
  end
end
