defmodule Analytics.ExprBadInputTest do
  # map/2 and reduce/3's options, fed malformed input, raise ArgumentError
  # naming the problem; hand-built trees are checked by the NIF too.
  use ExUnit.Case, async: true
  require Analytics
  alias Analytics.{Expr, Series}

  defp series, do: Series.from_list([1.0, 2.0, 3.0])
  defp forged(tree, variables \\ [:x]), do: %Expr{tree: tree, variables: variables}

  test "options must be expressions, and known" do
    for bad <- [:x, "x > 1", {:greater, {:variable, :x}, {:constant, 1}}, 1, %{}] do
      assert_raise ArgumentError, ~r/map: must be an %Analytics.Expr\{\}.*got: /, fn ->
        Analytics.reduce(series(), :sum, map: bad)
      end

      assert_raise ArgumentError, ~r/where: must be an %Analytics.Expr\{\}/, fn ->
        Analytics.reduce(series(), :sum, where: bad)
      end

      assert_raise ArgumentError, ~r/map\/2 needs an %Analytics.Expr\{\}/, fn ->
        Analytics.map(series(), bad)
      end
    end

    assert_raise ArgumentError, ~r/unknown keys \[:filter\]/, fn ->
      Analytics.reduce(series(), :sum, filter: Analytics.expr(x > 1))
    end
  end

  test "map must compute a number and where must select" do
    assert_raise ArgumentError, ~r/map: must compute a number, got a predicate/, fn ->
      Analytics.reduce(series(), :sum, map: Analytics.expr(x > 1))
    end

    assert_raise ArgumentError, ~r/where: must be a predicate/, fn ->
      Analytics.reduce(series(), :sum, where: Analytics.expr(x + 1))
    end
  end

  test "columns must exist, agree in length and be numbers" do
    assert_raise ArgumentError, "columns differ in length: 1 and 2", fn ->
      Analytics.map(%{x: [1.0], y: [1.0, 2.0]}, Analytics.expr(x + y))
    end

    assert_raise ArgumentError, ~r/use :z, but the input's columns are :x, :y/, fn ->
      Analytics.map(%{x: [1.0], y: [1.0]}, Analytics.expr(x + z))
    end

    assert_raise ArgumentError, ~r/2 variables \(:x, :y\) but the input is a single column/, fn ->
      Analytics.map(series(), Analytics.expr(x + y))
    end

    assert_raise ArgumentError, ~r/a map of 2 columns needs map: to say what to reduce/, fn ->
      Analytics.reduce(%{x: [1.0], y: [1.0]}, :sum, where: Analytics.expr(x > 0))
    end

    assert_raise ArgumentError, ~r/at index 1, got: :a/, fn ->
      Analytics.map(%{x: [1.0, :a]}, Analytics.expr(x + 1))
    end

    for bad <- ["s", 1, :atom, {1}, nil, %{__struct__: Other}] do
      message =
        ~r/^expected a Series, a list of numbers or a map of them, got: #{Regex.escape(inspect(bad))}$/

      assert_raise ArgumentError, message, fn -> Analytics.map(bad, Analytics.expr(x + 1)) end

      assert_raise ArgumentError, message, fn ->
        Analytics.reduce(bad, :sum, where: Analytics.expr(x > 1))
      end
    end
  end

  test "hand-built trees are checked by the NIF" do
    cases = [
      {forged({:bogus, {:variable, :x}}),
       ~r/unknown expression operator in: \{:bogus, \{:column, 0\}\}/},
      {forged({:add, {:variable, :x}}), ~r/add takes 2 operand\(s\)/},
      {forged({:constant, "1"}, []), ~r/constant must be a number.*got: "1"/},
      {forged({:not, {:variable, :x}}), ~r/takes a predicate was given a number/},
      {forged({:add, {:variable, :x}, 1}), ~r/not an expression node: 1/},
      {forged(:x), ~r/not an expression node: :x$/},
      {forged({}), ~r/not an expression node/},
      {forged(deep(100)), ~r/nests deeper than 64/}
    ]

    for {expression, message} <- cases do
      assert_raise ArgumentError, message, fn -> Analytics.map(series(), expression) end

      assert_raise ArgumentError, message, fn ->
        Analytics.reduce(series(), :sum, map: expression)
      end
    end
  end

  test "a tree too wide for the node limit is refused" do
    wide = Enum.reduce(1..1100, {:variable, :x}, fn _, acc -> {:add, {:variable, :x}, acc} end)

    assert_raise ArgumentError, ~r/nests deeper/, fn -> Analytics.map(series(), forged(wide)) end

    balanced = balanced(11)

    assert_raise ArgumentError, ~r/more than 1024 nodes/, fn ->
      Analytics.map(series(), forged(balanced))
    end
  end

  test "after all of that expressions still work" do
    assert Analytics.map(series(), Analytics.expr(x * 2)) |> Series.to_list() == [2.0, 4.0, 6.0]
  end

  defp deep(0), do: {:variable, :x}
  defp deep(n), do: {:negate, deep(n - 1)}

  defp balanced(0), do: {:variable, :x}
  defp balanced(n), do: {:add, balanced(n - 1), balanced(n - 1)}
end
