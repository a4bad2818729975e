defmodule Analytics.BigIntegerTest do
  # Integers beyond the i64 range are f64 elements, rounded as Elixir's `/`
  # and :erlang.float/1 round them; an :i64 column or an all-integer list
  # still refuses them.
  use ExUnit.Case, async: true
  alias Analytics.Series

  # Whether `float` is the double nearest to `integer` (ties to even), by
  # exact integer arithmetic against its two neighbouring doubles.
  defp nearest?(integer, float) do
    <<bits::64>> = <<abs(float)::float>>
    magnitude = abs(integer)
    error = abs(magnitude - trunc(abs(float)))
    <<up::float>> = <<bits + 1::64>>
    <<down::float>> = <<bits - 1::64>>
    sign_ok = float < 0 == integer < 0

    closer_than_up =
      error < abs(magnitude - trunc(up)) or
        (error == abs(magnitude - trunc(up)) and rem(bits, 2) == 0)

    closer_than_down =
      error < abs(magnitude - trunc(down)) or
        (error == abs(magnitude - trunc(down)) and rem(bits, 2) == 0)

    sign_ok and closer_than_up and closer_than_down
  end

  test "an :f64 series takes integers beyond the i64 range, correctly rounded" do
    :rand.seed(:exsss, {7, 8, 9})

    # Random magnitudes from just past 2^63 to past 2^1000, with both signs.
    random =
      for _ <- 1..2_000,
          do: (:rand.uniform(2) * 2 - 3) * (:rand.uniform(2 ** :rand.uniform(1_000)) + 2 ** 64)

    converted = Series.to_list(Series.from_list(random))
    # :erlang.float/1 (and so Elixir's `/`) is off by one unit in the last
    # place for about 1% of these; the series is always the nearest double.
    for {integer, float} <- Enum.zip(random, converted) do
      assert nearest?(integer, float), "#{integer} became #{float}"
    end

    # Ties go to the even mantissa; a bit past the tie rounds up.
    ties = [
      2 ** 64 + 2 ** 11,
      2 ** 64 + 2 ** 11 + 1,
      2 ** 64 + 3 * 2 ** 11,
      2 ** 63,
      -(2 ** 63) - 1
    ]

    expected = [2 ** 64, 2 ** 64 + 2 ** 12, 2 ** 64 + 2 ** 13, 2 ** 63, -(2 ** 63)]
    assert Series.to_list(Series.from_list(ties)) == Enum.map(expected, &(&1 * 1.0))
  end

  test "a list with a float takes them too" do
    assert Analytics.reduce([1.0, 2 ** 64], :sum) == 1.0 + 2 ** 64

    assert Analytics.reduce([2 ** 64, -(2 ** 64), 0.5], [:sum, :max]) == %{
             sum: 0.5,
             max: 2 ** 64 / 1
           }
  end

  test "an all-integer list and an :i64 series still refuse them" do
    assert_raise ArgumentError,
                 ~r/integer 18446744073709551616 at index 1 is outside the i64 range/,
                 fn ->
                   Analytics.reduce([1, 2 ** 64], :sum)
                 end

    assert_raise ArgumentError,
                 ~r/integer 9223372036854775808 at index 0 is outside the i64 range/,
                 fn ->
                   Series.from_list([2 ** 63], :i64)
                 end
  end

  test "integers beyond the f64 range are refused by name" do
    assert_raise ArgumentError, ~r/integer -1797.* at index 1 is too large for an :f64/, fn ->
      Series.from_list([1, -(2 ** 1024)])
    end

    assert Series.to_list(Series.from_list([2 ** 1023])) == [:math.pow(2, 1023)]
  end
end
