defmodule Analytics.ExprParseTest do
  use ExUnit.Case, async: true
  require Analytics
  alias Analytics.{Expr, Series}

  test "parsed text gives the same tree as the macro" do
    pairs = [
      {"-abs(x) + y ** 2 / sqrt(y) >= 1 or is_infinite(x)",
       Analytics.expr(-abs(x) + y ** 2 / sqrt(y) >= 1 or is_infinite(x))},
      {"(x > 1 && !(x < 0)) || x == :infinity",
       Analytics.expr((x > 1 && !(x < 0)) || x == :infinity)},
      {"floor(t / 3600) - 24 * floor(t / 86400)",
       Analytics.expr(floor(t / 3600) - 24 * floor(t / 86400))},
      {"max(min(x, 1.5e3), :neg_infinity) != :nan",
       Analytics.expr(max(min(x, 1.5e3), :neg_infinity) != :nan)}
    ]

    for {source, expected} <- pairs, do: assert(Expr.parse(source) == {:ok, expected})
  end

  test "numbers with an exponent and no fraction, as JSON writes them, are floats" do
    for {source, expected} <- [
          {"x * 1e3", Analytics.expr(x * 1.0e3)},
          {"x > 5E-4 or x < -2e+2", Analytics.expr(x > 5.0e-4 or x < -2.0e2)},
          {"x + 1_0e1", Analytics.expr(x + 10.0e1)},
          # Already Elixir floats, left as they are.
          {"x - 2.5e-1", Analytics.expr(x - 2.5e-1)}
        ],
        do: assert(Expr.parse(source) == {:ok, expected}, source)

    # Digits inside a name are not a number.
    assert {:error, "unknown name x1e3" <> _} = Expr.parse("x1e3 + 1")
    assert {:error, "invalid character \"e\" after number 1" <> _} = Expr.parse("1e")
  end

  test "a parsed expression maps and filters like the macro's" do
    {:ok, map} = Expr.parse("value * 8 + 1")
    {:ok, where} = Expr.parse("value > 0.5 and not is_nan(value)")
    values = [0.25, 1.0, :nan, 2.0, :infinity]
    result = Analytics.reduce(%{value: values}, [:sum, :count], map: map, where: where)
    assert result == %{sum: :infinity, count: 3}
    assert Analytics.map(%{value: [1.0, 2.0]}, map) |> Analytics.Series.to_list() == [9.0, 17.0]
  end

  test "unknown names are refused without creating atoms" do
    for i <- 1..200 do
      assert {:error, "unknown name zz_never_an_atom_" <> _} =
               Expr.parse("zz_never_an_atom_#{i} + 1")

      assert {:error, _} = Expr.parse("zz_call_never_#{i}(x) and :zz_atom_never_#{i}")
    end

    for name <- ["zz_never_an_atom_1", "zz_call_never_200", "zz_atom_never_7"] do
      assert_raise ArgumentError, fn -> String.to_existing_atom(name) end
    end
  end

  test "what the macro refuses at compile time, parse refuses with a message" do
    cases = [
      {"^limit", ~r/does not support \^limit; it takes variables, numbers, \+ -/},
      {"File.rm(x)", ~r/does not support File.rm\(x\)/},
      {"x + \"1\"", ~r/does not support "1"/},
      {"sin(x)", ~r/does not support sin\(x\)/},
      {"x and 1", ~r/Analytics.expr\(x and 1\): and takes a comparison, got a number/},
      {"(x > 1) + 1", ~r/add takes a number, got a comparison/},
      {"x = 1", ~r/does not support x = 1/},
      {"x +", ~r/^syntax error before: end of the expression \(column 3\)$/},
      {"(x", ~r/missing terminator: \)/},
      {" ", ~r/^expression is empty$/},
      {"", ~r/^expression is empty$/},
      {String.duplicate("x + ", 1100) <> "x", ~r/longer than 4096 bytes/}
    ]

    for {source, message} <- cases do
      assert {:error, error} = Expr.parse(source)
      assert error =~ message, "#{inspect(source)} gave #{inspect(error)}"
    end

    assert Expr.parse(:x) == {:error, "expected the expression as a string, got: :x"}

    assert_raise ArgumentError, ~r/unknown name zz_no_such_column_9/, fn ->
      Expr.parse!("zz_no_such_column_9")
    end
  end

  test "parse applies the NIF's bounds: 64 levels deep, 1,024 nodes" do
    nested = fn n -> String.duplicate("abs(", n) <> "x" <> String.duplicate(")", n) end
    assert {:error, "expression nests deeper than 64"} = Expr.parse(nested.(65))
    assert {:error, "expression nests deeper than 64"} = Expr.parse(nested.(200))
    assert {:ok, deepest} = Expr.parse(nested.(64))
    assert Series.to_list(Analytics.map(%{x: [-1.5]}, deepest)) == [1.5]

    # A balanced sum of n x's has 2n - 1 nodes, ten levels deep.
    sum = fn
      _sum, 1 -> "x"
      sum, n -> "(#{sum.(sum, div(n, 2))} + #{sum.(sum, n - div(n, 2))})"
    end

    assert {:error, "expression has more than 1024 nodes"} = Expr.parse(sum.(sum, 513))
    assert {:ok, widest} = Expr.parse(sum.(sum, 512))
    assert Series.to_list(Analytics.map(%{x: [1.0]}, widest)) == [512.0]
  end

  test "a hand-built tree past the bounds is refused by the NIF, not by a crash" do
    deep = Enum.reduce(1..200, {:variable, :x}, fn _, tree -> {:abs, tree} end)

    assert_raise ArgumentError, ~r/nests deeper than 64/, fn ->
      Analytics.map(%{x: [1.0]}, %Expr{tree: deep, variables: [:x]})
    end
  end

  test "a parser message that says where is not told twice" do
    assert {:error, message} = Expr.parse("x > ☃")
    assert message =~ "(column 5"
    assert length(String.split(message, "(column")) == 2
  end

  test "integer constants beyond 64 bits become floats, or infinities past the float range" do
    big = 9_223_372_036_854_775_808

    assert Analytics.map([1.0], Analytics.expr(x * 9_223_372_036_854_775_808)) |> Series.to_list() ==
             [big * 1.0]

    assert Analytics.map([1.0], Analytics.expr(x * ^big)) |> Series.to_list() == [big * 1.0]

    assert Analytics.map([1.0], Analytics.expr(x - ^(-big - 1))) |> Series.to_list() == [
             big * 1.0 + 1.0
           ]

    huge = "1" <> String.duplicate("0", 400)
    expression = Expr.parse!("value < " <> huge)
    assert expression.tree == {:less, {:variable, :value}, {:constant, :infinity}}

    assert Analytics.map(%{value: [1.0e308, :infinity]}, Expr.parse!("value + -" <> huge))
           |> Series.to_list() ==
             [:neg_infinity, :nan]

    assert Analytics.reduce(%{value: [1.0, 2.0]}, :count, where: expression) == 2
    assert {:error, "invalid float number 1.0e400 (column 9)"} = Expr.parse("value < 1.0e400")
  end
end
