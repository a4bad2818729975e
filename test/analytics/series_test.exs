defmodule Analytics.SeriesTest do
  use ExUnit.Case, async: true
  alias Analytics.Series

  doctest Analytics.Series

  test "from_list and to_list round-trip both dtypes and non-finite values" do
    floats = [0.0, -0.0, 1.5, -2.25, 1.0e308, 5.0e-324, :nan, :infinity, :neg_infinity]
    assert Series.from_list(floats) |> Series.to_list() == floats
    ints = [0, 1, -1, 9_223_372_036_854_775_807, -9_223_372_036_854_775_808]
    s = Series.from_list(ints, :i64)
    assert {Series.dtype(s), Series.size(s), Series.to_list(s)} == {:i64, 5, ints}
    assert Series.from_list([1, 2.5]) |> Series.to_list() == [1.0, 2.5]
  end

  test "from_binary and to_binary round-trip native-endian bytes" do
    bin = for x <- [1.5, -3.0, 1.0e-300], into: <<>>, do: <<x::float-native-64>>
    s = Series.from_binary(bin, :f64)
    assert Series.to_binary(s) == bin
    assert Series.to_list(s) == [1.5, -3.0, 1.0e-300]
    nan = <<0, 0, 0, 0, 0, 0, 248, 127>>
    assert Series.from_binary(nan, :f64) |> Series.to_list() == [:nan]
    assert Series.from_binary(<<>>, :i64) |> Series.size() == 0
    # A sub-binary at an odd offset still decodes (it is copied to an aligned buffer).
    <<_, odd::binary-size(16), _::binary>> = <<0>> <> bin <> <<0>>
    assert Series.from_binary(odd, :f64) |> Series.to_list() == [1.5, -3.0]
  end

  test "to_binary is zero-copy: slices point into their parent's buffer" do
    s = Series.from_list(Enum.to_list(1..1000), :i64)
    whole = Series.to_binary(s)
    part = s |> Series.slice(10, 5) |> Series.to_binary()
    assert part == binary_part(whole, 80, 40)
  end

  test "to_binary of a 64 MiB series is a view of the column, not a copy" do
    big = Series.from_binary(:binary.copy(<<1::signed-native-64>>, 8 * 1024 * 1024), :i64)
    bin = Series.to_binary(big)
    assert byte_size(bin) == 64 * 1024 * 1024
    assert binary_part(bin, byte_size(bin) - 8, 8) == <<1::signed-native-64>>

    # A binary that owns its bytes references at least as many as it has (a
    # copy would). This one references only the series' small native object,
    # which holds the column: the bytes are the column's own.
    assert :binary.referenced_byte_size(bin) < 1024
    assert :binary.referenced_byte_size(Series.to_binary(Series.slice(big, 8, 1_000_000))) < 1024
    assert :binary.referenced_byte_size(:binary.copy(bin)) == byte_size(bin)
  end

  test "slices of slices share memory and check bounds" do
    s = Series.from_list(Enum.to_list(0..99), :i64)
    inner = s |> Series.slice(10, 50) |> Series.slice(5, 3)
    assert Series.to_list(inner) == [15, 16, 17]
    assert Series.slice(s, 100, 0) |> Series.size() == 0

    assert_raise ArgumentError, ~r/out of range for a series of size 3/, fn ->
      Series.slice(inner, 1, 3)
    end
  end

  test "concat joins in order" do
    a = Series.from_list([1.0, 2.0])
    b = Series.from_list([3.0])

    assert Series.concat([a, Series.slice(b, 0, 0), b, Series.slice(a, 1, 1)]) |> Series.to_list() ==
             [1.0, 2.0, 3.0, 2.0]

    many = for i <- 1..1000, do: Series.from_list([i], :i64)
    assert Series.concat(many) |> Series.to_list() == Enum.to_list(1..1000)
  end

  test "at reads any element, including from a misaligned slice, and checks the index" do
    values = [1.0, :nan, :infinity, -0.5, 7.0]
    s = Series.from_list(values)
    assert Enum.map(0..4, &Series.at(s, &1)) == values
    assert Series.at(Series.slice(s, 3, 2), 1) == 7.0

    assert Series.at(Series.from_list([-9_223_372_036_854_775_808], :i64), 0) ==
             -9_223_372_036_854_775_808

    assert_raise ArgumentError, ~r/index 5 is out of range for a series of 5 elements/, fn ->
      Series.at(s, 5)
    end

    assert_raise ArgumentError, ~r/index 0 is out of range for a series of 0 elements/, fn ->
      Series.at(Series.from_list([]), 0)
    end

    assert_raise ArgumentError, ~r/non-negative integer index, got: -1/, fn ->
      Series.at(s, -1)
    end

    assert_raise ArgumentError, ~r/non-negative integer index, got: 1.0/, fn ->
      Series.at(s, 1.0)
    end

    assert_raise ArgumentError, ~r/expected an %Analytics.Series{}/, fn -> Series.at([1.0], 0) end
  end

  test "cast truncates f64 toward zero like trunc/1, on random and edge-case data" do
    :rand.seed(:exsss, {7, 7, 7})
    floats = for _ <- 1..5_000, do: (:rand.uniform() - 0.5) * :math.pow(10, :rand.uniform(18))
    edges = [0.0, -0.0, 0.999, -0.999, 9_223_372_036_854_774_784.0, -9_223_372_036_854_775_808.0]
    s = Series.from_list(floats ++ edges)
    assert s |> Series.cast(:i64) |> Series.to_list() == Enum.map(floats ++ edges, &trunc/1)
    # A misaligned slice of a large series (the dirty-scheduler path).
    big = Series.from_list(for i <- 0..2_000_000, do: i + 0.5)
    slice = Series.slice(big, 3, 1_000_000)
    assert slice |> Series.cast(:i64) |> Series.at(999_999) == 1_000_002
    ints = Series.from_list([0, -7, 9_007_199_254_740_993], :i64)
    assert ints |> Series.cast(:f64) |> Series.to_list() == [0.0, -7.0, 9_007_199_254_740_992.0]
    assert Series.cast(ints, :i64) == ints
    assert Series.from_list([]) |> Series.cast(:i64) |> Series.size() == 0
  end

  test "cast refuses values with no i64 and bad arguments, naming them" do
    for {bad, shown} <- [nan: "NaN", infinity: "infinity", neg_infinity: "-infinity"] do
      assert_raise ArgumentError,
                   "cannot cast #{shown} at index 2 to :i64 (it has no 64-bit integer value)",
                   fn ->
                     Series.from_list([1.0, 2.0, bad]) |> Series.cast(:i64)
                   end
    end

    assert_raise ArgumentError, ~r/cannot cast 9223372036854775808 at index 0/, fn ->
      Series.from_list([9_223_372_036_854_775_808.0]) |> Series.cast(:i64)
    end

    assert_raise ArgumentError, "dtype must be :f64 or :i64, got: :u8", fn ->
      Series.from_list([1.0]) |> Series.cast(:u8)
    end

    assert_raise ArgumentError, ~r/expected an %Analytics.Series{}/, fn ->
      Series.cast([1.0], :i64)
    end
  end

  test "inspect shows dtype, size and the first values" do
    assert inspect(Series.from_list([1, 2, 3], :i64)) == "#Analytics.Series<i64[3] [1, 2, 3]>"
    assert inspect(Series.from_list([:nan])) == "#Analytics.Series<f64[1] [:nan]>"
    long = inspect(Series.from_list(Enum.to_list(1..1_000_000), :i64))
    assert long =~ "#Analytics.Series<i64[1000000] [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...]>"
  end

  test "large conversions round-trip (dirty scheduler path)" do
    values = Enum.to_list(1..2_000_000)
    s = Series.from_list(values, :i64)
    assert Series.to_list(s) == values

    assert Series.from_binary(Series.to_binary(s), :i64) |> Series.to_list() |> length() ==
             2_000_000
  end
end
