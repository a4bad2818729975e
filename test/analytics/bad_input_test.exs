defmodule Analytics.BadInputTest do
  # Every public function, fed malformed input, raises ArgumentError with a
  # message naming the problem, and the VM (and the NIF) live on.
  use ExUnit.Case, async: true
  alias Analytics.Series

  @big 123_456_789_012_345_678_901_234_567_890
  @not_series_values [:a, nil, 1, 1.5, "s", [], [1], %{}, {1}, self(), %{__struct__: Other}]

  defp series, do: Series.from_list([1.0, 2.0, 3.0])

  # After each test, whatever order they run in: the NIF still answers, from
  # another process (the test's own is gone by then).
  setup do
    on_exit(fn ->
      assert Analytics.reduce(Series.from_list([1.0, 2.0, 3.0]), [:sum, :max]) ==
               %{sum: 6.0, max: 3.0}
    end)
  end

  defp forged, do: %Series{resource: make_ref(), dtype: :f64, size: 3}

  defp reduce_inputs do
    [
      {:atom, ~r/got: :atom/},
      {nil, ~r/got: nil$/},
      {42, ~r/got: 42/},
      {1.5, ~r/got: 1.5/},
      {"string", ~r/list of numbers, got: "string"$/},
      {{1, 2}, ~r/list of numbers, got: \{1, 2\}$/},
      {%{a: 1}, ~r/list of numbers/},
      {self(), ~r/list of numbers/},
      {[1 | 2], ~r/improper list/},
      {[1, 2 | :tail], ~r/improper list/},
      {[1, :a], ~r/at index 1, got: :a/},
      {[1, nil], ~r/at index 1, got: nil$/},
      {[1, true], ~r/at index 1, got: true$/},
      {["1"], ~r/at index 0, got: "1"$/},
      {[[1]], ~r/at index 0, got: \[1\]/},
      {[1, [2, 3]], ~r/at index 1/},
      {[{1}], ~r/at index 0, got: \{1\}/},
      {[%{}], ~r/at index 0/},
      {[@big], ~r/integer 1234.* at index 0 is outside the i64 range/},
      {[1, -@big], ~r/at index 1 is outside the i64 range/},
      {[9_223_372_036_854_775_808], ~r/outside the i64 range/},
      {[-9_223_372_036_854_775_809], ~r/outside the i64 range/},
      {[1.0, :NaN], ~r/got: :NaN$/},
      {[1.0, :inf], ~r/got: :inf/},
      {[:infinity, :"-infinity"], ~r/at index 1, got: :"-infinity"$/},
      {[self()], ~r/at index 0/},
      {[make_ref()], ~r/at index 0/},
      {[fn -> 1 end], ~r/at index 0/},
      {[<<1::3>>], ~r/at index 0/},
      {List.duplicate(1, 500_000) ++ [:late], ~r/at index 500000, got: :late/},
      {List.duplicate(1.0, 500_000) ++ [1 | 2], ~r/improper list/},
      {forged(), ~r/Analytics.Series/}
    ]
  end

  defp bad_reducers do
    [
      {:foo, ~r/unknown reducer: :foo/},
      {"sum", ~r/unknown reducer: "sum"/},
      {nil, ~r/unknown reducer: nil/},
      {1, ~r/unknown reducer: 1/},
      {{:sum}, ~r/unknown reducer: \{:sum\}/},
      {{:quantile}, ~r/unknown reducer/},
      {{:quantile, 0.5, 1}, ~r/unknown reducer/},
      {{:quantile, -0.1}, ~r/between 0 and 1, got: -0.1/},
      {{:quantile, 1.01}, ~r/between 0 and 1, got: 1.01/},
      {{:quantile, 2}, ~r/between 0 and 1, got: 2/},
      {{:quantile, :half}, ~r/between 0 and 1, got: :half/},
      {{:quantile, nil}, ~r/between 0 and 1/},
      {{:quantile, "0.5"}, ~r/between 0 and 1/},
      {{:variance, ddof: -1}, ~r/ddof, a non-negative integer/},
      {{:variance, ddof: 1.5}, ~r/ddof, a non-negative integer/},
      {{:variance, ddof: :one}, ~r/ddof, a non-negative integer/},
      {{:variance, foo: 1}, ~r/the only option is ddof/},
      {{:variance, [ddof: 1, ddof: 2]}, ~r/the only option is ddof/},
      {{:standard_deviation, ddof: -2}, ~r/ddof/},
      {{:variance, 1}, ~r/unknown reducer: \{:variance, 1\}/},
      {{:median, 0.5}, ~r/unknown reducer/},
      {[], ~r/expected at least one reducer, got: \[\]/},
      {[:sum, :bogus], ~r/unknown reducer: :bogus/},
      {[[:sum]], ~r/unknown reducer: \[:sum\]/},
      {:Sum, ~r/unknown reducer: :Sum/},
      {:approx_n_distinct_typo, ~r/unknown reducer/}
    ]
  end

  test "reduce rejects malformed input" do
    for {input, message} <- reduce_inputs() do
      assert_raise ArgumentError, message, fn -> Analytics.reduce(input, :sum) end
      assert_raise ArgumentError, message, fn -> Analytics.reduce(input, [:sum, :median]) end
    end
  end

  test "reduce rejects malformed reducers, on lists and series" do
    for {reducer, message} <- bad_reducers(), input <- [[1, 2], series()] do
      assert_raise ArgumentError, message, fn -> Analytics.reduce(input, reducer) end
    end
  end

  test "the NIF itself rejects what the Elixir layer would have caught" do
    for {reducers, message} <- [
          {[:foo], ~r/unknown reducer: :foo/},
          {[{:quantile, 7}], ~r/quantile must be between 0 and 1/},
          {[{:variance, -1}], ~r/ddof must be a non-negative integer/},
          {[{:variance, 0.5}], ~r/ddof must be a non-negative integer/},
          {[{:quantile, :x}], ~r/parameter must be a number/},
          {[], ~r/1 to 256 reducers/},
          {List.duplicate(:sum, 257), ~r/1 to 256 reducers/},
          {:sum, ~r/1 to 256 reducers/},
          {[:sum | :count], ~r/1 to 256 reducers/}
        ] do
      assert_raise ArgumentError, message, fn -> Analytics.Native.reduce([1.0], reducers) end
    end
  end

  test "from_list rejects bad dtypes and elements" do
    cases = [
      {[1], :f32, ~r/dtype must be :f64 or :i64, got: :f32/},
      {[1], "f64", ~r/dtype must be :f64 or :i64/},
      {[1], nil, ~r/dtype must be :f64 or :i64/},
      {[1], :u8, ~r/dtype must be :f64 or :i64/},
      {[1.5], :i64, ~r/cannot store 1.5 at index 0 in an :i64 series/},
      {[1, 2, 3.0], :i64, ~r/cannot store 3.0 at index 2/},
      {[:nan], :i64, ~r/cannot store :nan/},
      {[:infinity], :i64, ~r/cannot store :infinity/},
      {[@big], :i64, ~r/outside the i64 range/},
      {[2 ** 1024], :f64, ~r/integer 1797.* at index 0 is too large for an :f64/},
      {:x, :f64, ~r/list of numbers, got: :x/},
      {"1,2", :f64, ~r/list of numbers/},
      {[1 | 2], :f64, ~r/improper list/},
      {[1, "2"], :f64, ~r/at index 1/},
      {[[1.0]], :f64, ~r/at index 0/}
    ]

    for {list, dtype, message} <- cases do
      assert_raise ArgumentError, message, fn -> Series.from_list(list, dtype) end
    end
  end

  test "from_binary rejects non-binaries, ragged lengths and bad dtypes" do
    for size <- [1, 2, 3, 4, 5, 6, 7, 9, 15, 17] do
      assert_raise ArgumentError,
                   ~r/binary of #{size} bytes is not a whole number of 8-byte/,
                   fn ->
                     Series.from_binary(:binary.copy(<<0>>, size), :f64)
                   end
    end

    for {value, dtype, message} <- [
          {[1, 2], :f64, ~r/expected a binary, got: \[1, 2\]$/},
          {:bin, :i64, ~r/expected a binary, got: :bin/},
          {<<1::3>>, :i64, ~r/expected a binary/},
          {<<0::64>>, :f32, ~r/dtype must be :f64 or :i64/},
          {<<0::64>>, nil, ~r/dtype must be/}
        ] do
      assert_raise ArgumentError, message, fn -> Series.from_binary(value, dtype) end
    end
  end

  test "functions taking a series reject anything else" do
    for value <- [forged() | @not_series_values] do
      assert_raise ArgumentError, ~r/expected an %Analytics.Series\{\}/, fn ->
        Series.to_list(value)
      end

      assert_raise ArgumentError, ~r/expected an %Analytics.Series\{\}/, fn ->
        Series.to_binary(value)
      end

      assert_raise ArgumentError, ~r/expected an %Analytics.Series\{\}/, fn ->
        Series.slice(value, 0, 0)
      end
    end

    for value <- @not_series_values do
      assert_raise ArgumentError, ~r/expected an %Analytics.Series\{\}/, fn ->
        Series.size(value)
      end

      assert_raise ArgumentError, ~r/expected an %Analytics.Series\{\}/, fn ->
        Series.dtype(value)
      end
    end
  end

  test "a series struct whose fields disagree with its data is refused everywhere" do
    s = series()
    require Analytics

    for forged <- [
          %{s | size: :bogus},
          %{s | size: 10},
          %{s | size: -1},
          %{s | dtype: :i64},
          %{s | dtype: "f64"}
        ] do
      calls = [
        fn -> Analytics.reduce(forged, :sum) end,
        fn -> Analytics.reduce(forged, :sum, parallel: true) end,
        fn -> Analytics.partial(forged, [:sum]) end,
        fn -> Analytics.map(forged, Analytics.expr(x * 2)) end,
        fn -> Analytics.reduce(%{x: forged}, :sum, map: Analytics.expr(x)) end,
        fn -> Series.at(forged, 0) end,
        fn -> Series.slice(forged, 0, 1) end,
        fn -> Series.to_list(forged) end
      ]

      for call <- calls do
        assert_raise ArgumentError,
                     ~r/not a valid %Analytics.Series\{\}: its :size and :dtype fields/,
                     call
      end

      assert inspect(forged) =~ ~r/^%Analytics.Series\{/
    end

    for forged <- [%{s | size: :bogus}, %{s | size: -1}, %{s | dtype: "f64"}] do
      assert_raise ArgumentError, ~r/not a valid %Analytics.Series\{\}/, fn ->
        Series.size(forged)
      end

      assert_raise ArgumentError, ~r/not a valid %Analytics.Series\{\}/, fn ->
        Series.dtype(forged)
      end
    end
  end

  test "slice rejects negative, non-integer and out-of-range windows" do
    s = series()

    for {offset, length, message} <- [
          {-1, 1, ~r/offset must be a non-negative integer, got: -1/},
          {0, -1, ~r/length must be a non-negative integer, got: -1/},
          {1.0, 1, ~r/offset must be a non-negative integer, got: 1.0/},
          {0, :all, ~r/length must be a non-negative integer, got: :all/},
          {@big, 1, ~r/offset must be a non-negative integer/},
          {0, 18_446_744_073_709_551_615, ~r/out of range for a series of size 3/},
          {4, 0, ~r/slice 4, 0 is out of range/},
          {2, 2, ~r/slice 2, 2 is out of range/},
          {3, 1, ~r/out of range/},
          {nil, nil, ~r/offset must be/}
        ] do
      assert_raise ArgumentError, message, fn -> Series.slice(s, offset, length) end
    end
  end

  test "concat rejects empty, mixed, improper and non-series lists" do
    ints = Series.from_list([1], :i64)

    for {value, message} <- [
          {[], ~r/at least one series, got an empty list/},
          {[series(), ints], ~r/one dtype, got :f64 and :i64/},
          {[ints, series()], ~r/one dtype, got :i64 and :f64/},
          {[series() | series()], ~r/improper list/},
          {[series(), :x], ~r/expected an %Analytics.Series\{\}, got: :x/},
          {[series(), forged()], ~r/expected an %Analytics.Series\{\}/},
          {series(), ~r/expected a list of %Analytics.Series\{\}/},
          {:x, ~r/expected a list of %Analytics.Series\{\}/}
        ] do
      assert_raise ArgumentError, message, fn -> Series.concat(value) end
    end
  end
end
