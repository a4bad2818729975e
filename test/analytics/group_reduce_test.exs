defmodule Analytics.GroupReduceTest do
  use ExUnit.Case, async: true
  import Analytics.Approx
  import Bitwise
  alias Analytics.{Reference, Series}

  @reducers [
    :sum,
    :count,
    :min,
    :max,
    :mean,
    :variance,
    {:standard_deviation, ddof: 0},
    :argmin,
    :argmax,
    :median,
    {:quantile, 0.9},
    :n_distinct,
    :product
  ]

  defp random_rows(n, key_range, seed) do
    :rand.seed(:exsss, {seed, 17, 19})
    keys = for _ <- 1..n//1, do: :rand.uniform(key_range) - div(key_range, 2)
    values = for _ <- 1..n//1, do: Float.round(:rand.uniform() * 4.0 - 2.0, 3)
    {keys, values}
  end

  # Enum.group_by, with positions mapped back to input rows and NaN where a
  # group has no value for a reducer.
  defp reference(keys, values, reducers) do
    groups =
      keys
      |> Enum.zip(Enum.with_index(values))
      |> Enum.group_by(&elem(&1, 0), &elem(&1, 1))
      |> Enum.sort_by(&elem(&1, 0))

    columns =
      Map.new(reducers, fn reducer ->
        {reducer,
         Enum.map(groups, fn {_key, rows} ->
           vs = Enum.map(rows, &elem(&1, 0))

           case Reference.reduce(vs, reducer) do
             nil -> :nan
             position when reducer in [:argmin, :argmax] -> rows |> Enum.at(position) |> elem(1)
             value -> value
           end
         end)}
      end)

    Map.put(columns, :keys, Enum.map(groups, &elem(&1, 0)))
  end

  defp lists(result), do: Map.new(result, fn {k, s} -> {k, Series.to_list(s)} end)

  defp assert_columns(got, want, context) do
    assert Map.keys(got) |> Enum.sort() == Map.keys(want) |> Enum.sort()

    for {name, column} <- want do
      assert length(got[name]) == length(column), inspect({context, name})

      Enum.zip(got[name], column)
      |> Enum.each(fn {g, w} -> assert_close(g, w, {context, name}, 1.0e-9, 1.0e-9) end)
    end
  end

  test "every reducer per group equals Enum.group_by on random f64 data" do
    for {n, range, seed} <- [{0, 5, 1}, {1, 5, 2}, {50, 3, 3}, {3000, 40, 4}, {5000, 5000, 5}] do
      {keys, values} = random_rows(n, range, seed)
      reducers = List.delete(@reducers, :product)

      got =
        Analytics.group_reduce(Series.from_list(keys, :i64), Series.from_list(values), reducers)

      assert_columns(lists(got), reference(keys, values, reducers), {n, range})
    end
  end

  test "i64 values stay exact; a sum that leaves 64 bits raises naming the key" do
    big = 9_223_372_036_854_775_807
    keys = [3, 1, 3, 1, 2]
    values = [5, big, -7, -1, 0]

    got = Analytics.group_reduce(keys, values, [:sum, :min, :max, :product, :mean])

    assert lists(got) == %{
             keys: [1, 2, 3],
             sum: [big - 1, 0, -2],
             min: [-1, 0, -7],
             max: [big, 0, 5],
             product: [-big, 0, -35],
             mean: [(big - 1) / 2, 0.0, -1.0]
           }

    assert_raise ArgumentError, ~r/the :i64 sum of group 1 does not fit in 64 bits/, fn ->
      Analytics.group_reduce([1, 1], [big, 1], :sum)
    end

    assert_raise ArgumentError, ~r/the :i64 product of group 7 does not fit in 64 bits/, fn ->
      Analytics.group_reduce([7, 7, 7], [big, big, big], :product)
    end

    assert lists(Analytics.group_reduce([7, 7, 7, 7], [big, big, big, 0], :product)).product == [
             0
           ]
  end

  test "NaN and infinities per group" do
    got =
      Analytics.group_reduce([1, 1, 2, 2, 3], [:nan, 1.0, :infinity, 1.0, 2.0], [
        :max,
        :argmax,
        :sum,
        :variance
      ])

    assert lists(got) == %{
             keys: [1, 2, 3],
             max: [:nan, :infinity, 2.0],
             argmax: [0, 2, 4],
             sum: [:nan, :infinity, 2.0],
             variance: [:nan, :nan, :nan]
           }
  end

  test "a million distinct keys" do
    n = 1_000_000
    keys = Series.from_list(Enum.map(1..n, &(&1 * 7919 - 3_000_000)), :i64)
    values = Series.from_list(Enum.map(1..n, &(&1 * 1.0)))
    %{keys: k, sum: s, count: c} = Analytics.group_reduce(keys, values, [:sum, :count])
    assert Series.size(k) == n
    assert Analytics.reduce(c, [:min, :max]) == %{min: 1, max: 1}
    assert Analytics.reduce(s, :sum) == n * (n + 1) / 2
    assert Series.to_list(Series.slice(k, 0, 2)) == [7919 - 3_000_000, 2 * 7919 - 3_000_000]
  end

  test "buckets: floor division, unsorted and negative timestamps" do
    :rand.seed(:exsss, {7, 8, 9})
    timestamps = for _ <- 1..4000, do: :rand.uniform(100_000) - 50_000
    values = for _ <- 1..4000, do: :rand.uniform() * 10
    got = Analytics.bucket_reduce(timestamps, values, 300, [:mean, :count, :max]) |> lists()

    starts = Enum.map(timestamps, &(Integer.floor_div(&1, 300) * 300))
    want = reference(starts, values, [:mean, :count, :max])
    assert_columns(got, want |> Map.put(:buckets, want.keys) |> Map.delete(:keys), :buckets)
    assert Enum.all?(got.buckets, &(rem(&1, 300) == 0))
  end

  test "bad input names the problem" do
    assert_raise ArgumentError, "group keys must be :i64 integers, got an :f64 column", fn ->
      Analytics.group_reduce([1.0, 2.0], [1.0, 2.0], :sum)
    end

    assert_raise ArgumentError, "keys and values differ in length: 2 and 3", fn ->
      Analytics.group_reduce([1, 2], [1.0, 2.0, 3.0], :sum)
    end

    assert_raise ArgumentError, ~r/unknown reducer: :bogus/, fn ->
      Analytics.group_reduce([1], [1.0], [:sum, :bogus])
    end

    assert_raise ArgumentError, "expected at least one reducer, got: []", fn ->
      Analytics.group_reduce([1], [1.0], [])
    end

    for width <- [0, -5, 1.5, :a, nil, 1 <<< 70] do
      assert_raise ArgumentError, ~r/bucket width must be a positive integer, got: /, fn ->
        Analytics.bucket_reduce([1], [1.0], width, :sum)
      end
    end

    assert_raise ArgumentError, "timestamps must be :i64 integers, got an :f64 column", fn ->
      Analytics.bucket_reduce([1.5], [1.0], 10, :sum)
    end

    assert_raise ArgumentError, ~r/starts outside the i64 range/, fn ->
      Analytics.bucket_reduce([-9_223_372_036_854_775_807], [1.0], 10, :sum)
    end

    for bad <- ["s", :a, nil, {1}] do
      message =
        ~r/^expected an %Analytics.Series{} or a list of numbers, got: #{Regex.escape(inspect(bad))}$/

      assert_raise ArgumentError, message, fn -> Analytics.group_reduce(bad, [1.0], :sum) end
      assert_raise ArgumentError, message, fn -> Analytics.group_reduce([1], bad, :sum) end
      assert_raise ArgumentError, message, fn -> Analytics.bucket_reduce(bad, [1.0], 5, :sum) end
    end

    message = ~r/^expected a number, :nan, :infinity or :neg_infinity at index 1, got: :x$/
    assert_raise ArgumentError, message, fn -> Analytics.group_reduce([1, :x], [1.0], :sum) end
    assert_raise ArgumentError, message, fn -> Analytics.group_reduce([1], [1, :x], :sum) end

    assert_raise ArgumentError, message, fn ->
      Analytics.bucket_reduce([1, :x], [1.0], 5, :sum)
    end
  end
end
