defmodule Analytics.PropertiesTest do
  # Seeded random programs of Series operations checked against a plain-list
  # model: every run prints its seed on failure, so it can be replayed.
  use ExUnit.Case, async: true
  import Bitwise
  alias Analytics.{Reference, Series}

  @runs 300
  @reducers [:sum, :count, :min, :max, :mean, :variance, :standard_deviation, :median] ++
              [{:quantile, 0.9}, :argmin, :argmax, :n_distinct]

  test "random sequences of from_list, slice, concat and cast agree with the list model" do
    for run <- 1..@runs do
      seed = {run, 1, 2026}
      :rand.seed(:exsss, seed)
      scale = :math.pow(10, Enum.random(-20..20))
      dtype = Enum.random([:f64, :i64])

      {series, model} =
        Enum.reduce(1..Enum.random(1..10), fresh(dtype, scale), fn _, acc -> step(acc, scale) end)

      assert Series.to_list(series) == model, "seed #{inspect(seed)}"
      assert Series.size(series) == length(model)
      check_reductions(series, model, "seed #{inspect(seed)}")
    end
  end

  test "slices of slices, 50 deep, read the model's windows" do
    for run <- 1..50 do
      :rand.seed(:exsss, {run, 2, 2026})
      model = for _ <- 1..Enum.random(0..2_000), do: Enum.random(-1_000_000..1_000_000)

      Enum.reduce(1..50, {Series.from_list(model, :i64), model}, fn _, {series, model} ->
        offset = Enum.random(0..length(model))
        length = Enum.random(0..(length(model) - offset))

        {series, model} =
          {Series.slice(series, offset, length), Enum.slice(model, offset, length)}

        assert Series.to_list(series) == model
        assert Analytics.reduce(series, :sum) == Enum.sum(model)
        {series, model}
      end)
    end
  end

  test "concat of many small series, misaligned slices among them, equals the joined model" do
    for run <- 1..20 do
      :rand.seed(:exsss, {run, 3, 2026})

      pieces =
        for _ <- 1..Enum.random(1..1_000) do
          values = for _ <- 1..Enum.random(0..6), do: :rand.uniform() * 100 - 50
          offset = Enum.random(0..length(values))
          series = values |> Series.from_list() |> Series.slice(offset, length(values) - offset)
          {series, Enum.drop(values, offset)}
        end

      joined = pieces |> Enum.map(&elem(&1, 0)) |> Series.concat()
      model = Enum.flat_map(pieces, &elem(&1, 1))
      assert Series.to_list(joined) == model
      check_reductions(joined, model, "run #{run}")
    end
  end

  test "non-finite values round-trip through every operation and propagate through reductions" do
    for run <- 1..100 do
      :rand.seed(:exsss, {run, 4, 2026})
      special = [:nan, :infinity, :neg_infinity]
      model = for _ <- 1..Enum.random(1..200), do: Enum.random(special ++ [1.5, -2.0, 0.0])
      offset = Enum.random(0..(length(model) - 1))
      series = model |> Series.from_list() |> Series.slice(offset, length(model) - offset)
      model = Enum.drop(model, offset)
      assert Series.to_list(Series.concat([series, series])) == model ++ model

      expected =
        cond do
          :nan in model -> :nan
          :infinity in model and :neg_infinity in model -> :nan
          :infinity in model -> :infinity
          :neg_infinity in model -> :neg_infinity
          true -> Enum.sum(model)
        end

      assert Analytics.reduce(series, :sum) == expected, "run #{run}: #{inspect(model)}"
    end
  end

  # One random step of a program over {series, model}.
  defp step({series, model}, scale) do
    dtype = Series.dtype(series)

    case Enum.random([:slice, :concat, :cast]) do
      :slice ->
        offset = Enum.random(0..length(model))
        length = Enum.random(0..(length(model) - offset))
        {Series.slice(series, offset, length), Enum.slice(model, offset, length)}

      :concat ->
        {other, other_model} = fresh(dtype, scale)
        {Series.concat([series, other]), model ++ other_model}

      :cast when dtype == :i64 ->
        cast = Series.cast(series, :f64)
        assert Series.cast(cast, :i64) |> Series.to_list() == Enum.map(model, &trunc(&1 * 1.0))
        {cast, Enum.map(model, &(&1 * 1.0))}

      :cast ->
        if Enum.all?(model, &(abs(&1) < 9.2e18)) do
          {Series.cast(series, :i64), Enum.map(model, &trunc/1)}
        else
          assert_raise ArgumentError, ~r/cannot cast .* to :i64/, fn ->
            Series.cast(series, :i64)
          end

          {series, model}
        end
    end
  end

  defp fresh(:f64, scale) do
    values = for _ <- 1..length_sample(), do: (:rand.uniform() * 2 - 1) * scale
    values = Enum.map(values, &maybe_integral/1)
    {Series.from_list(values), values}
  end

  defp fresh(:i64, _scale) do
    bound = Enum.random([10, 1_000_000, 1 <<< 40, 1 <<< 62])
    values = for _ <- 1..length_sample(), do: Enum.random(-bound..bound)
    {Series.from_list(values, :i64), values}
  end

  # Mostly short; sometimes long enough to take the dirty-scheduler path.
  defp length_sample do
    case :rand.uniform(20) do
      1 -> Enum.random(10_000..60_000)
      2 -> 0
      _ -> Enum.random(1..300)
    end
  end

  # Ties and repeats, so that argmin, argmax and n_distinct see some.
  defp maybe_integral(x), do: if(:rand.uniform(4) == 1, do: Float.round(x), else: x)

  defp check_reductions(series, model, context) do
    results = Analytics.reduce(series, @reducers)
    magnitude = model |> Enum.map(&abs/1) |> Enum.max(fn -> 0 end)

    for reducer <- @reducers do
      expected = expected(reducer, model, Series.dtype(series))
      actual = results[reducer]
      assert_agrees(reducer, actual, expected, magnitude, "#{context}, #{inspect(reducer)}")
    end
  end

  defp expected(:sum, [], :f64), do: 0.0
  defp expected(reducer, model, _dtype), do: Reference.reduce(model, reducer)

  # Floats within a tolerance of the data's magnitude (sums and variances
  # may cancel); everything else exactly.
  defp assert_agrees(reducer, actual, expected, magnitude, context) when is_float(expected) do
    scale =
      case reducer do
        :variance -> max(abs(expected), magnitude * magnitude)
        _ -> max(abs(expected), magnitude)
      end

    assert is_float(actual), "#{context}: expected a float, got #{inspect(actual)}"
    assert abs(actual - expected) <= 1.0e-9 * scale, "#{context}: #{actual} vs #{expected}"
  end

  defp assert_agrees(_reducer, actual, expected, _magnitude, context),
    do: assert(actual === expected, "#{context}: #{inspect(actual)} vs #{inspect(expected)}")
end
