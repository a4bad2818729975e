defmodule Analytics.StateTest do
  use ExUnit.Case, async: true
  import Analytics.Approx
  alias Analytics.{Reference, Series, State}

  @reducers [
    :sum,
    :count,
    :min,
    :max,
    :mean,
    :variance,
    {:variance, ddof: 0},
    :standard_deviation,
    :product,
    :argmin,
    :argmax
  ]

  defp random_pieces(values, seed) do
    :rand.seed(:exsss, {seed, 3, 7})
    cuts = for _ <- 1..:rand.uniform(8), do: :rand.uniform(length(values) + 1) - 1
    bounds = Enum.sort([0, length(values) | cuts])
    for [a, b] <- Enum.chunk_every(bounds, 2, 1, :discard), do: Enum.slice(values, a, b - a)
  end

  # The oracle is the pure-Elixir model, not Analytics.reduce: merging must
  # give what the values give, not merely what the native one-pass gives.
  defp model(values), do: Map.new(@reducers, &{&1, model(values, &1)})

  defp model(values, :product), do: Enum.reduce(values, 1, &ieee_product/2)
  defp model(values, reducer), do: Reference.reduce(values, reducer)

  # Elixir raises where an f64 product overflows; IEEE (and the library)
  # gives an infinity of the right sign.
  defp ieee_product(x, acc) when is_atom(acc) do
    cond do
      x == 0 -> :nan
      x < 0 -> if acc == :infinity, do: :neg_infinity, else: :infinity
      true -> acc
    end
  end

  defp ieee_product(x, acc) do
    acc * x
  rescue
    ArithmeticError -> if acc < 0 == x < 0, do: :infinity, else: :neg_infinity
  end

  defp check(values, pieces, context) do
    whole = model(values)
    states = Enum.map(pieces, &Analytics.partial(&1, @reducers))

    flat = states |> Analytics.merge() |> Analytics.finalize()
    {left, right} = Enum.split(states, div(length(states), 2))

    grouped =
      [left, right]
      |> Enum.reject(&(&1 == []))
      |> Enum.map(&Analytics.merge/1)
      |> Analytics.merge()

    shipped =
      grouped |> :erlang.term_to_binary() |> :erlang.binary_to_term() |> Analytics.finalize()

    for reducer <- @reducers, result <- [flat, shipped] do
      assert_close(
        result[reducer],
        whole[reducer],
        "#{context} #{inspect(reducer)}",
        1.0e-9,
        1.0e-6
      )
    end

    # Every reducer but the positions gives the same answer in any order.
    shuffled = states |> Enum.shuffle() |> Analytics.merge() |> Analytics.finalize()

    for reducer <- @reducers -- [:argmin, :argmax] do
      assert_close(
        shuffled[reducer],
        whole[reducer],
        "#{context} shuffled #{inspect(reducer)}",
        1.0e-9,
        1.0e-6
      )
    end
  end

  test "merged states of consecutive pieces equal the whole, in any grouping" do
    for seed <- 1..20 do
      :rand.seed(:exsss, {seed, 1, 1})
      floats = for _ <- 1..:rand.uniform(3000), do: (:rand.uniform() - 0.5) * 100
      check(floats, random_pieces(floats, seed), "f64 seed #{seed}")
      ints = for _ <- 1..:rand.uniform(3000), do: :rand.uniform(2_000_001) - 1_000_001

      check(
        Enum.map(ints, &rem(&1, 4)),
        random_pieces(Enum.map(ints, &rem(&1, 4)), seed),
        "i64 seed #{seed}"
      )
    end
  end

  test "series pieces, empty pieces and exact integer sums" do
    big = 9_223_372_036_854_775_807
    s = Series.from_list([big, big, 1, -5], :i64)
    pieces = [Series.slice(s, 0, 1), Series.slice(s, 1, 0), Series.slice(s, 1, 3)]
    states = Enum.map(pieces, &Analytics.partial(&1, [:sum, :argmin, :max]))
    assert Analytics.finalize(Analytics.merge(states)) == %{sum: 2 * big - 4, argmin: 3, max: big}
    assert Analytics.partial(Series.from_list([]), :sum) |> Analytics.finalize() === 0.0
    assert Analytics.partial([], :mean) |> Analytics.finalize() == nil
  end

  test "non-finite values merge as in one pass" do
    pieces = [[1.0, 2.0], [:nan, 3.0], [:infinity]]
    whole = Enum.concat(pieces)
    reducers = [:sum, :min, :max, :argmax, :variance, :product]

    merged =
      pieces
      |> Enum.map(&Analytics.partial(&1, reducers))
      |> Analytics.merge()
      |> Analytics.finalize()

    assert merged == Analytics.reduce(whole, reducers)

    infs = [[1.0, :infinity], [:neg_infinity]]

    merged =
      infs
      |> Enum.map(&Analytics.partial(&1, [:sum, :min, :max]))
      |> Analytics.merge()
      |> Analytics.finalize()

    assert merged == %{sum: :nan, min: :neg_infinity, max: :infinity}
  end

  test "a single reducer finalizes to a single value" do
    state = Analytics.merge([Analytics.partial([1, 2], :sum), Analytics.partial([3], :sum)])
    assert Analytics.finalize(state) == 6
    assert %State{version: 1, dtype: :i64, count: 3} = state
  end

  test "bad input raises ArgumentError naming the problem" do
    for {fun, message} <- [
          {fn -> Analytics.partial([1], :median) end, ~r/:median cannot be merged exactly/},
          {fn -> Analytics.partial([1], [:sum, {:quantile, 0.5}]) end,
           ~r/\{:quantile, 0.5\} cannot be merged/},
          {fn -> Analytics.partial([1], :n_distinct) end, ~r/:n_distinct cannot be merged/},
          {fn -> Analytics.partial([1], []) end, ~r/at least one reducer/},
          {fn -> Analytics.partial([1], :bogus) end, ~r/unknown reducer: :bogus/},
          {fn -> Analytics.partial(:x, :sum) end, ~r/list of numbers, got: :x/},
          {fn -> Analytics.merge([]) end, ~r/non-empty list of %Analytics.State\{\}/},
          {fn -> Analytics.merge(:x) end, ~r/non-empty list/},
          {fn -> Analytics.merge([Analytics.partial([1], :sum), :x]) end, ~r/got an element: :x/},
          {fn ->
             Analytics.merge([Analytics.partial([1], :sum), Analytics.partial([1], :max)])
           end, ~r/cannot merge states of :max/},
          {fn ->
             Analytics.merge([Analytics.partial([1], :sum), Analytics.partial([1.0], :sum)])
           end, ~r/on f64 with states of :sum on i64/},
          {fn -> Analytics.merge([%{Analytics.partial([1], :sum) | version: 99}]) end,
           ~r/cannot use a version 99 state/},
          {fn -> Analytics.finalize(%{Analytics.partial([1], :sum) | version: 99}) end,
           ~r/cannot use a version 99 state/},
          {fn -> Analytics.finalize(%{Analytics.partial([1, 2], :sum) | count: 5}) end,
           ~r/count 5 is more than its 2 rows/},
          {fn -> Analytics.finalize(%{Analytics.partial([1, 2], :argmax) | argmax: 2}) end,
           ~r/argmax 2\) lies past its 2 rows/},
          {fn -> Analytics.finalize(%{}) end, ~r/expected an %Analytics.State\{\}/}
        ] do
      assert_raise ArgumentError, message, fun
    end
  end
end
