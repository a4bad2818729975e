defmodule Analytics.ExprTypedTest do
  # Integer arithmetic stays :i64 and exact, comparisons are exact across
  # types, and the operators added for issue 17 (div, rem, round, log10, if)
  # match a pure-Elixir model on random and edge-case data.
  use ExUnit.Case, async: true
  require Analytics
  alias Analytics.{Expr, Reference, Series}

  @max 9_223_372_036_854_775_807
  @min -9_223_372_036_854_775_808

  defp ints(n, seed, range) do
    :rand.seed(:exsss, {seed, n, 3})
    for _ <- 1..n//1, do: Enum.random(range)
  end

  defp to_list(series), do: Series.to_list(series)

  test "integer arithmetic on i64 columns gives an exact i64 series, across blocks" do
    for n <- [0, 1, 1023, 1025, 3000] do
      xs = ints(n, 1, -(2 ** 40)..(2 ** 40))
      ys = ints(n, 2, -50..50)

      result =
        Analytics.map(
          %{x: xs, y: ys},
          Analytics.expr(
            x * 3 - y + div(x, y) + rem(x, y) + max(x, y) - abs(min(y, -2)) + floor(x) + round(y)
          )
        )

      assert Series.dtype(result) == :i64

      expected =
        Enum.zip_with(xs, ys, fn x, y ->
          x * 3 - y + Reference.int_div(x, y) + Reference.int_rem(x, y) + max(x, y) -
            abs(min(y, -2)) + x + y
        end)

      assert to_list(result) == expected
    end
  end

  test "any float operand or float operator makes the result f64" do
    xs = Series.from_list([1, 2, 3], :i64)
    assert Analytics.map(xs, Analytics.expr(x / 2)) |> Series.dtype() == :f64
    assert Analytics.map(xs, Analytics.expr(x * 2.0)) |> to_list() == [2.0, 4.0, 6.0]
    assert Analytics.map(xs, Analytics.expr(x ** 2)) |> Series.dtype() == :f64
    assert Analytics.map(xs, Analytics.expr(if(x > 1, x, 0.5))) |> to_list() == [0.5, 2.0, 3.0]

    assert Analytics.map(xs, Analytics.expr(log10(x * 10))) |> to_list() == [
             1.0,
             :math.log10(20),
             :math.log10(30)
           ]

    assert Analytics.map(xs, Analytics.expr(-x)) |> to_list() == [-1, -2, -3]
  end

  test "i64 overflow raises naming the row and operator; it never wraps" do
    cases = [
      {Analytics.expr(x + 1), [1, @max], ~r/integer overflow in \+ at row 1/},
      {Analytics.expr(x - 1), [@min], ~r/integer overflow in - at row 0/},
      {Analytics.expr(x * x), [3, 2 ** 32], ~r/integer overflow in \* at row 1/},
      {Analytics.expr(-x), [0, 0, @min], ~r/integer overflow in unary - at row 2/},
      {Analytics.expr(abs(x)), [@min], ~r/integer overflow in abs at row 0/},
      {Analytics.expr(div(x, -1)), [@min], ~r/integer overflow in div at row 0/}
    ]

    for {expression, values, message} <- cases do
      assert_raise ArgumentError, message, fn ->
        Analytics.map(Series.from_list(values, :i64), expression)
      end
    end

    # At the limits but within them: exact.
    assert Analytics.map([@max - 1, @min + 1], Analytics.expr(x + 1 - 1)) |> to_list() == [
             @max - 1,
             @min + 1
           ]

    assert Analytics.map([@min], Analytics.expr(rem(x, -1))) |> to_list() == [0]
    # The same arithmetic on a float column does not overflow.
    assert Analytics.map([1.0e300], Analytics.expr(x * x)) |> to_list() == [:infinity]
  end

  test "checked i64 arithmetic near the limits matches exact integers, or names the first overflowing row" do
    near = fn ->
      Enum.random([
        @max - Enum.random(0..1000),
        @min + Enum.random(0..1000),
        Enum.random(-3..3),
        Enum.random(@min..@max)
      ])
    end

    cases = [
      {Analytics.expr(x + y), &(&1 + &2), "+"},
      {Analytics.expr(x - y), &(&1 - &2), "-"},
      {Analytics.expr(x * y), &(&1 * &2), "*"}
    ]

    :rand.seed(:exsss, {7, 7, 7})

    for _ <- 1..60, {expression, exact, op} <- cases do
      n = Enum.random([1, 2, 5, 1030])
      xs = for _ <- 1..n, do: near.()
      ys = for _ <- 1..n, do: Enum.random([near.(), Enum.random(-2..2)])
      exact_values = Enum.zip_with(xs, ys, exact)
      input = %{x: Series.from_list(xs, :i64), y: Series.from_list(ys, :i64)}

      case Enum.find_index(exact_values, &(&1 > @max or &1 < @min)) do
        nil ->
          assert Analytics.map(input, expression) |> to_list() == exact_values

        row ->
          assert_raise ArgumentError,
                       ~r/integer overflow in #{Regex.escape(op)} at row #{row}:/,
                       fn ->
                         Analytics.map(input, expression)
                       end
      end
    end
  end

  test "div and rem by zero: 0 and the dividend on i64, infinity and NaN on f64" do
    assert Analytics.map(%{x: [7, -7, 0], y: [0, 0, 0]}, Analytics.expr(div(x, y))) |> to_list() ==
             [0, 0, 0]

    assert Analytics.map(%{x: [7, -7, 0], y: [0, 0, 0]}, Analytics.expr(rem(x, y))) |> to_list() ==
             [7, -7, 0]

    assert Analytics.map(%{x: [7.0, -7.0, 0.0], y: [0, 0, 0]}, Analytics.expr(div(x, y)))
           |> to_list() ==
             [:infinity, :neg_infinity, :nan]

    assert Analytics.map(%{x: [7.0, -7.0, 0.0], y: [0, 0, 0]}, Analytics.expr(rem(x, y)))
           |> to_list() ==
             [:nan, :nan, :nan]

    # A guard in if works, since div by zero is defined.
    assert Analytics.map(%{x: [6, 5], y: [3, 0]}, Analytics.expr(if(y == 0, -1, div(x, y))))
           |> to_list() == [2, -1]
  end

  test "div, rem, round, floor, ceil on f64 follow Elixir's integer-valued rules" do
    xs = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 7.25, -7.25, :nan, :infinity]
    rounded = Analytics.map(xs, Analytics.expr(round(x))) |> to_list()
    assert Enum.take(rounded, 8) == [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 7.0, -7.0]
    assert Enum.drop(rounded, 8) == [:nan, :infinity]

    finite = Enum.take(xs, 8)

    assert Analytics.map(finite, Analytics.expr(div(x, 2))) |> to_list() ==
             Enum.map(finite, &(trunc(&1 / 2) * 1.0))

    assert Analytics.map(finite, Analytics.expr(rem(x, 2))) |> to_list() ==
             Enum.map(finite, &(&1 - trunc(&1 / 2) * 2))

    assert Analytics.map(finite, Analytics.expr(floor(x))) |> to_list() ==
             Enum.map(finite, &(Float.floor(&1) + 0.0))

    assert Analytics.map(finite, Analytics.expr(ceil(x))) |> to_list() ==
             Enum.map(finite, &(Float.ceil(&1) + 0.0))
  end

  test "comparisons are exact between i64 beyond 2^53, floats and integer constants" do
    base = 1_700_000_000_000_000_000
    ts = Enum.map(0..600, &(base + &1 - 300))
    cut = base + 1
    threshold = base * 1.0 + 256.0

    for {expression, model} <- [
          {Analytics.expr(t > ^cut), &(&1 > cut)},
          {Analytics.expr(t == ^cut), &(&1 == cut)},
          {Analytics.expr(t <= ^threshold), &(Reference.compare(&1, threshold) != :gt)},
          {Analytics.expr(t != ^threshold), &(Reference.compare(&1, threshold) != :eq)},
          {Analytics.expr(^threshold < t), &(Reference.compare(threshold, &1) == :lt)}
        ] do
      assert Analytics.filter(Series.from_list(ts, :i64), expression) |> to_list() ==
               Enum.filter(ts, model)

      assert Analytics.reduce(%{t: ts}, :count, where: expression) == Enum.count(ts, model)
    end

    # Against an f64 column, NaN is unordered and infinities bound everything.
    floats = [:nan, :infinity, :neg_infinity, 9.223372036854776e18, -9.223372036854776e18, 2.5]
    ints = [0, @max, @min, @max, @min, 2]

    for {expression, keep} <- [
          {Analytics.expr(i < f), &(&1 == :lt)},
          {Analytics.expr(i >= f), &(&1 in [:gt, :eq])},
          {Analytics.expr(i != f), &(&1 != :eq)}
        ] do
      expected = Enum.zip_with(ints, floats, &keep.(Reference.compare(&1, &2)))
      %{i: kept} = Analytics.filter(%{i: ints, f: floats}, expression)
      assert to_list(kept) == for({i, true} <- Enum.zip(ints, expected), do: i)
    end
  end

  test "if, select and the do/else form are one operator; branches must agree" do
    expected = [-1, 0, 10]

    for expression <- [
          Analytics.expr(if(x > 0, x * 10, if(x < 0, -1, 0))),
          Analytics.expr(select(x > 0, x * 10, select(x < 0, -1, 0))),
          Analytics.expr(if x > 0, do: x * 10, else: if(x < 0, -1, 0))
        ] do
      assert Analytics.map([-5, 0, 1], expression) |> to_list() == expected
    end

    assert Analytics.filter(
             [1.0, 5.0, :nan],
             Analytics.expr(if(is_nan(x), not is_finite(x), x > 2))
           )
           |> to_list() ==
             [5.0, :nan]

    assert {:error, message} = Expr.parse("if(x, 1, 2)")
    assert message =~ "if takes a comparison as its condition, got a number"
    assert {:error, message} = Expr.parse("if(x > 1, x > 2, 3)")
    assert message =~ "if takes two branches of one kind, got a comparison and a number"
    assert {:ok, %Expr{tree: {:select, _, _, _}}} = Expr.parse("if(value > 1, value, 0)")
    assert {:ok, _} = Expr.parse("round(log10(value)) + div(value, 3) - rem(value, 2)")
  end

  test "an unbound name hints at pinning" do
    limit = 3
    _ = limit

    assert_raise ArgumentError,
                 ~r/the input is a single column.*or pin \(\^name\) any of them/,
                 fn ->
                   Analytics.map([1.0], Analytics.expr(x * limit))
                 end

    assert_raise ArgumentError,
                 ~r/the expressions use :limit.*if limit is an Elixir variable, pin it.*\^limit/,
                 fn ->
                   Analytics.map(%{value: [1.0]}, Analytics.expr(value * limit))
                 end

    assert_raise ArgumentError, ~r/:limit is not bound to a column.*\^limit/, fn ->
      Analytics.filter(%{value: [1.0]}, Analytics.expr(value > limit))
    end
  end
end
