defmodule Analytics.SketchTest do
  use ExUnit.Case, async: true
  require Analytics
  alias Analytics.Series

  @quantiles [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0]

  defp lognormal(n, seed) do
    :rand.seed(:exsss, {seed, 21, 23})
    for _ <- 1..n, do: :math.exp(:rand.normal() * 2.0)
  end

  # DDSketch's promise: within alpha of a true value whose rank is the
  # interpolated quantile's neighbour.
  defp assert_within_alpha(estimate, sorted, q, alpha) do
    n = length(sorted)
    low = Enum.at(sorted, floor(q * (n - 1)))
    high = Enum.at(sorted, ceil(q * (n - 1)))

    assert estimate >= low * (1 - alpha) and estimate <= high * (1 + alpha),
           "q #{q}: #{estimate} is not within #{alpha} of [#{low}, #{high}]"
  end

  test "HyperLogLog counts 1M distinct values within 2%" do
    series = Series.from_list(Enum.to_list(1..1_000_000), :i64)
    estimate = Analytics.reduce(series, :approx_n_distinct)
    assert abs(estimate - 1_000_000) / 1_000_000 < 0.02

    floats = Analytics.map(series, Analytics.expr(x * 0.5))
    estimate = Analytics.reduce(floats, :approx_n_distinct)
    assert abs(estimate - 1_000_000) / 1_000_000 < 0.02
  end

  test "HyperLogLog is exact-ish when small and counts -0.0, 0.0 and NaNs as n_distinct does" do
    values = [0.0, -0.0, :nan, :nan, 1.0, 2.0, 2.0]

    assert Analytics.reduce(values, [:approx_n_distinct, :n_distinct]) == %{
             approx_n_distinct: 4,
             n_distinct: 4
           }

    assert Analytics.reduce([], :approx_n_distinct) == 0
  end

  test "DDSketch quantiles stay within 1% relative error on skewed data, merged any way" do
    values = lognormal(200_000, 1)
    sorted = Enum.sort(values)
    reducers = Enum.map(@quantiles, &{:approx_quantile, &1})

    whole = Analytics.reduce(Series.from_list(values), reducers)
    for q <- @quantiles, do: assert_within_alpha(whole[{:approx_quantile, q}], sorted, q, 0.01)

    pieces = Enum.chunk_every(values, 30_001)
    states = Enum.map(pieces, &Analytics.partial(Series.from_list(&1), reducers))
    in_order = states |> Analytics.merge() |> Analytics.finalize()
    shuffled = states |> Enum.shuffle() |> Analytics.merge() |> Analytics.finalize()

    shipped =
      states
      |> Enum.map(&(&1 |> :erlang.term_to_binary() |> :erlang.binary_to_term()))
      |> Analytics.merge()
      |> Analytics.finalize()

    assert in_order == shuffled
    assert in_order == shipped
    for q <- @quantiles, do: assert_within_alpha(in_order[{:approx_quantile, q}], sorted, q, 0.01)
  end

  test "DDSketch handles signs, zeros, infinities and NaN as the exact quantile does" do
    values = [-5.0, -1.0, 0.0, 0.0, 2.0, 3.0, :infinity]
    # The sketch answers with the value at rank floor(q * (n - 1)), within 1%.
    for {q, want} <- [
          {0.0, -5.0},
          {0.2, -1.0},
          {0.5, 0.0},
          {0.7, 2.0},
          {0.9, 3.0},
          {1.0, :infinity}
        ] do
      got = Analytics.reduce(values, {:approx_quantile, q})

      if want == :infinity,
        do: assert(got == :infinity),
        else: assert_in_delta(got, want, abs(want) * 0.01, "q #{q}")
    end

    assert Analytics.reduce([1.0, :nan], {:approx_quantile, 0.5}) == :nan
    assert Analytics.reduce([], {:approx_quantile, 0.5}) == nil
    assert Analytics.reduce([7], {:approx_quantile, 0.5}) == 7.0
  end

  test "sketch states are small" do
    state =
      Analytics.partial(lognormal(100_000, 2), [:approx_n_distinct, {:approx_quantile, 0.5}])

    assert byte_size(state.hll) == 16_390
    assert byte_size(state.dd) < 16_000
  end

  test "corrupt or foreign sketch binaries raise ArgumentError, never crash" do
    state = Analytics.partial([1.0, 2.0], [:approx_n_distinct, {:approx_quantile, 0.5}])

    corrupt = [
      <<>>,
      "AHLL",
      binary_part(state.hll, 0, 100),
      state.hll <> <<0>>,
      "ADDS" <> <<1>> <> :binary.copy(<<255>>, 200),
      "ADDS" <> <<2>> <> binary_part(state.dd, 5, byte_size(state.dd) - 5),
      binary_part(state.dd, 0, byte_size(state.dd) - 3),
      "XXXX" <> state.dd
    ]

    for bad <- corrupt do
      assert_raise ArgumentError, ~r/not a valid (HyperLogLog|DDSketch) state/, fn ->
        Analytics.finalize(%{state | hll: bad, dd: bad})
      end
    end

    assert_raise ArgumentError, ~r/expected an encoded sketch/, fn ->
      Analytics.finalize(%{state | hll: :nope})
    end
  end
end
