defmodule Analytics.ExprTest do
  use ExUnit.Case, async: true
  require Analytics
  alias Analytics.Series

  doctest Analytics.Expr

  defp compile_error(code) do
    assert_raise CompileError, fn ->
      Code.eval_string("require Analytics; Analytics.expr(#{code})")
    end
  end

  test "operators become a tree with sorted variables" do
    assert %Analytics.Expr{tree: tree, variables: [:x, :y]} =
             Analytics.expr(-abs(x) + y ** 2 / sqrt(y) >= 1 or is_infinite(x))

    assert tree ==
             {:or,
              {:greater_equal,
               {:add, {:negate, {:abs, {:variable, :x}}},
                {:divide, {:pow, {:variable, :y}, {:constant, 2}}, {:sqrt, {:variable, :y}}}},
               {:constant, 1}}, {:is_infinite, {:variable, :x}}}
  end

  test "&&, || and ! are and, or and not; :nan and friends are constants" do
    assert Analytics.expr((x > 1 && !(x < 0)) || x == :infinity).tree ==
             {:or,
              {:and, {:greater, {:variable, :x}, {:constant, 1}},
               {:not, {:less, {:variable, :x}, {:constant, 0}}}},
              {:equal, {:variable, :x}, {:constant, :infinity}}}
  end

  test "pinned values are read when the expression is built, and must be numbers" do
    limit = 2.5
    assert Analytics.expr(x < ^limit).tree == {:less, {:variable, :x}, {:constant, 2.5}}

    bad = "2"

    assert_raise ArgumentError, ~r/pinned value .* must be a number.*got: "2"/, fn ->
      Analytics.expr(x < ^bad)
    end
  end

  test "unsupported code is a compile-time error naming it" do
    error = compile_error("Enum.sum(x)")
    assert Exception.message(error) =~ "does not support Enum.sum(x)"
    assert Exception.message(compile_error("sin(x)")) =~ "does not support sin(x)"
    assert Exception.message(compile_error(~s|x <> "a"|)) =~ ~s|does not support x <> "a"|
    assert Exception.message(compile_error("[x]")) =~ "does not support [x]"
  end

  test "kinds are checked at compile time" do
    assert Exception.message(compile_error("(x > 1) + 1")) =~
             "add takes a number, got a comparison"

    assert Exception.message(compile_error("x and true")) =~ "does not support true"
    assert Exception.message(compile_error("not x")) =~ "not takes a comparison, got a number"

    assert Exception.message(compile_error("sqrt(x < 1)")) =~
             "sqrt takes a number, got a comparison"
  end

  test "every operator on every edge value matches Elixir's floats" do
    values = [-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, 1.0e5]
    y = Enum.reverse(values)
    input = %{x: Series.from_list(values), y: Series.from_list(y)}

    cases = [
      {Analytics.expr(x + y), &(&1 + &2)},
      {Analytics.expr(x - y), &(&1 - &2)},
      {Analytics.expr(x * y), &(&1 * &2)},
      {Analytics.expr(min(x, y)), &min/2},
      {Analytics.expr(max(x, y)), &max/2},
      {Analytics.expr(abs(x)), fn a, _ -> abs(a) end},
      {Analytics.expr(floor(x)), fn a, _ -> Float.floor(a) end},
      {Analytics.expr(ceil(x)), fn a, _ -> Float.ceil(a) end},
      {Analytics.expr(exp(x / 1.0e4)), fn a, _ -> :math.exp(a / 1.0e4) end}
    ]

    for {expression, reference} <- cases do
      got = Analytics.map(input, expression) |> Series.to_list()
      want = Enum.zip_with(values, y, fn a, b -> reference.(a, b) * 1.0 end)
      assert Enum.map(got, &(&1 + 0.0)) == Enum.map(want, &(&1 + 0.0)), inspect(expression.tree)
    end
  end

  test "comparisons select rows; map/2 refuses them" do
    input = %{x: [1.0, 5.0, 3.0], y: [2.0, 4.0, 3.0]}

    assert Analytics.reduce(input, :count, map: Analytics.expr(x), where: Analytics.expr(x > y)) ==
             1

    assert Analytics.reduce(input, :count, map: Analytics.expr(x), where: Analytics.expr(x >= y)) ==
             2

    assert Analytics.reduce(input, :count, map: Analytics.expr(x), where: Analytics.expr(x != y)) ==
             2

    assert_raise ArgumentError,
                 "map needs an expression that computes a number, got a predicate",
                 fn ->
                   Analytics.map(input, Analytics.expr(x > y))
                 end
  end

  test "IEEE results come back as atoms" do
    got = Analytics.map([-1.0, 0.0, 1.0], Analytics.expr(sqrt(x) / x)) |> Series.to_list()
    assert got == [:nan, :nan, 1.0]
    assert Analytics.map([0, 1], Analytics.expr(1 / x)) |> Series.to_list() == [:infinity, 1.0]

    assert Analytics.map([:nan, 1.0], Analytics.expr(max(x, 0))) |> Series.to_list() == [
             :nan,
             1.0
           ]

    assert Analytics.map([0.0], Analytics.expr(log(x))) |> Series.to_list() == [:neg_infinity]
  end
end
