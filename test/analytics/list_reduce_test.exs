defmodule Analytics.ListReduceTest do
  # Plain lists reduced block by block as they are read (2,048 values a block,
  # c_src/nif/terms.hpp), never decoded into a column: the answers must be
  # those of the same list made a Series, bit for bit, with the same errors.
  use ExUnit.Case, async: true
  alias Analytics.{Placement, Reference, Series}

  @streamed [:sum, :count, :mean, :min, :max, :variance, :standard_deviation] ++
              [{:variance, ddof: 0}, {:standard_deviation, ddof: 3}]
  @block 2_048
  # The plain-list threshold of the normal scheduler (scheduling_test.exs).
  @threshold trunc(Analytics.info().normal_scheduler_budget_ns / 16.5)
  @sizes [0, 1, 2, 31, 33, @block - 1, @block, @block + 1, 2 * @block + 1] ++
           [@threshold - 1, @threshold, @threshold + 1, 20_000]

  defp floats(n), do: for(_ <- 1..n//1, do: :rand.uniform() * 2_000.0 - 1_000.0)
  defp ints(n), do: for(_ <- 1..n//1, do: :rand.uniform(2_000_001) - 1_000_001)

  defp as_series(list) do
    if Enum.all?(list, &is_integer/1),
      do: Series.from_list(list, :i64),
      else: Series.from_list(list)
  end

  # Each reducer alone, and all at once: a sum alone takes another kernel
  # than a sum next to a variance.
  defp assert_as_series(list, label) do
    series = as_series(list)

    assert Analytics.reduce(list, @streamed) == Analytics.reduce(series, @streamed), label

    for reducer <- @streamed do
      assert Analytics.reduce(list, reducer) == Analytics.reduce(series, reducer),
             "#{label}, #{inspect(reducer)}"
    end
  end

  test "random float, integer and mixed lists at block and scheduling edges give the Series' answers" do
    for n <- @sizes, kind <- [:floats, :ints, :mixed_late, :mixed_early] do
      :rand.seed(:exsss, {n, 7, 2026})

      list =
        case kind do
          :floats -> floats(n)
          :ints -> ints(n)
          # Integers first, a float after the first block: the whole list is :f64.
          :mixed_late -> ints(n) ++ [0.5] ++ ints(div(n, 3))
          :mixed_early -> [1.25 | ints(n)]
        end

      assert_as_series(list, "#{kind} of #{n}")
    end
  end

  test "the reference model agrees: exact integer sums, close float moments" do
    for n <- [1, 2, @block + 1, 7_000] do
      :rand.seed(:exsss, {n, 8, 2026})
      list = ints(n)
      assert Analytics.reduce(list, :sum) == Reference.reduce(list, :sum)
      assert Analytics.reduce(list, :min) == Reference.reduce(list, :min)
      assert Analytics.reduce(list, :max) == Reference.reduce(list, :max)

      for reducer <- [:mean, :variance, :standard_deviation], n > 1 do
        expected = Reference.reduce(list, reducer)
        assert_in_delta Analytics.reduce(list, reducer), expected, 1.0e-9 * abs(expected) + 1.0e-9
      end

      floats = floats(n)
      assert_in_delta Analytics.reduce(floats, :sum), Reference.reduce(floats, :sum), 1.0e-9 * n
    end
  end

  test "empty and one-element lists" do
    assert Analytics.reduce([], @streamed) ==
             %{
               :sum => 0,
               :count => 0,
               :mean => nil,
               :min => nil,
               :max => nil,
               :variance => nil,
               :standard_deviation => nil,
               {:variance, ddof: 0} => nil,
               {:standard_deviation, ddof: 3} => nil
             }

    assert Analytics.reduce([7], [:sum, :mean, :min, :variance, {:variance, ddof: 0}]) ==
             %{:sum => 7, :mean => 7.0, :min => 7, :variance => nil, {:variance, ddof: 0} => 0.0}

    assert Analytics.reduce([2.5], [:sum, :max]) == %{sum: 2.5, max: 2.5}
  end

  test "NaN and infinity atoms anywhere, in any block" do
    for at <- [0, @block - 1, @block, 5_000] do
      base = List.duplicate(1.5, 6_000)
      with_nan = List.replace_at(base, at, :nan)

      assert Analytics.reduce(with_nan, [:sum, :min, :max, :mean]) == %{
               sum: :nan,
               min: :nan,
               max: :nan,
               mean: :nan
             }

      assert Analytics.reduce(with_nan, :count) == 6_000

      ints_then_inf = List.replace_at(List.duplicate(2, 6_000), at, :infinity)

      assert Analytics.reduce(ints_then_inf, [:sum, :max, :min]) == %{
               sum: :infinity,
               max: :infinity,
               min: 2.0
             }

      both = ints_then_inf |> List.replace_at(rem(at + 1, 6_000), :neg_infinity)
      assert Analytics.reduce(both, :sum) == :nan
      assert_as_series(both, "infinities at #{at}")
    end
  end

  test "i64 limits: sums beyond 64 bits are exact bignums, never wrapped" do
    max = 9_223_372_036_854_775_807
    min = -9_223_372_036_854_775_808

    for n <- [1, @block, @block + 1, 7_000] do
      assert Analytics.reduce(List.duplicate(max, n), :sum) == max * n
      assert Analytics.reduce(List.duplicate(min, n), [:sum, :min]) == %{sum: min * n, min: min}
      assert Analytics.reduce([max | List.duplicate(1, n)], :sum) == max + n
    end

    assert Analytics.reduce([max, min, max], [:sum, :mean]) == %{
             sum: max - 1,
             mean: (max - 1) / 3
           }
  end

  test "an integer beyond i64 is an :f64 value only in a list that holds a float" do
    big = 9_223_372_036_854_775_808

    assert Analytics.reduce(List.duplicate(1, 3_000) ++ [big, 0.5], :sum) ==
             3_000 + big * 1.0 + 0.5

    assert_raise ArgumentError,
                 ~r/integer 9223372036854775808 at index 3000 is outside the i64 range/,
                 fn -> Analytics.reduce(List.duplicate(1, 3_000) ++ [big, 2], :sum) end

    assert_raise ArgumentError, ~r/integer .* at index 2049 is too large for an :f64/, fn ->
      Analytics.reduce(List.duplicate(0.5, 2_049) ++ [Integer.pow(10, 400)], :sum)
    end
  end

  test "bad elements are named with their index, at block boundaries too" do
    for at <- [0, @block - 1, @block, @block + 1, @threshold, @threshold + 1],
        fill <- [1, 1.5] do
      list = List.duplicate(fill, @threshold + 10) |> List.replace_at(at, "seven")

      assert_raise ArgumentError,
                   ~r/expected a number, :nan, :infinity or :neg_infinity at index #{at}, got: "seven"/,
                   fn -> Analytics.reduce(list, [:sum, :max]) end
    end
  end

  test "an improper list is reported as such, before any bad element" do
    assert_raise ArgumentError, ~r/expected a proper list of numbers, got an improper list/, fn ->
      Analytics.reduce([1, 2 | 3], :sum)
    end

    assert_raise ArgumentError, ~r/expected a proper list of numbers, got an improper list/, fn ->
      Analytics.reduce([1, :x, 2.5 | 3], :mean)
    end

    assert_raise ArgumentError, ~r/expected a proper list of numbers, got an improper list/, fn ->
      Analytics.reduce(List.duplicate(1.0, 3_000) ++ 4, :max)
    end
  end

  test "short lists stay on the normal scheduler, long ones move to a dirty one" do
    short = List.duplicate(2, div(@threshold, 2))
    long = List.duplicate(2, @threshold * 2)
    assert {result, []} = Placement.dirty_functions(fn -> Analytics.reduce(short, :sum) end)
    assert result == 2 * div(@threshold, 2)
    assert {result, [:reduce]} = Placement.dirty_functions(fn -> Analytics.reduce(long, :sum) end)
    assert result == 4 * @threshold
  end

  test "50 processes streaming different lists at once each get their own answer" do
    tasks =
      for i <- 1..50 do
        Task.async(fn ->
          :rand.seed(:exsss, {i, 9, 2026})
          n = Enum.at(@sizes, rem(i, length(@sizes))) + i
          list = if rem(i, 2) == 0, do: ints(n), else: floats(n)
          series = as_series(list)

          for _ <- 1..5 do
            Analytics.reduce(list, @streamed) == Analytics.reduce(series, @streamed) and
              Analytics.reduce(list, :sum) == Analytics.reduce(series, :sum)
          end
        end)
      end

    assert Enum.map(tasks, &Task.await(&1, 60_000)) == List.duplicate(List.duplicate(true, 5), 50)
  end
end
