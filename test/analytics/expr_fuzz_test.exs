defmodule Analytics.ExprFuzzTest do
  # Expr.parse/1 takes text from the network: whatever arrives, it answers
  # {:ok, expression} or {:error, message}, and a parsed expression either
  # maps or raises ArgumentError. Seeded, so a failure replays.
  use ExUnit.Case, async: false
  alias Analytics.Expr

  @tokens [
    "x",
    "value",
    "y",
    "abs",
    "sqrt",
    "log",
    "exp",
    "pow",
    "min",
    "max",
    "floor",
    "ceil",
    "is_nan",
    "is_finite",
    "and",
    "or",
    "not",
    "+",
    "-",
    "*",
    "/",
    "**",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "&&",
    "||",
    "!",
    "(",
    ")",
    "(",
    ")",
    ",",
    ",",
    "1",
    "2.5",
    "0",
    "-7",
    "1e3",
    "1.0e400",
    ":nan",
    ":infinity",
    ":neg_infinity",
    ":x",
    ":zzq_never",
    "zzq_never",
    "zzq:",
    "\"zzq\":",
    "\"x\":",
    "x:",
    "^",
    "^x",
    "&",
    "&1",
    "fn",
    "->",
    "end",
    "do",
    "%{}",
    "%",
    "{",
    "}",
    "[",
    "]",
    "<<",
    ">>",
    "|",
    "|>",
    "@",
    "..",
    "::",
    "\\\\",
    "'c'",
    "?a",
    "~s(x)",
    "#",
    ";",
    "=",
    "==",
    "===",
    "=~",
    ".",
    "File.rm",
    "Kernel.+",
    "__MODULE__",
    "__ENV__",
    "nil",
    "true",
    "false",
    "when",
    "in",
    "9223372036854775808",
    "-9223372036854775809",
    "0x7FFFFFFFFFFFFFFF",
    "1_000",
    "0b101",
    "\"\"\"",
    "not in",
    "\n",
    "1" <> String.duplicate("0", 400)
  ]

  defp random_tokens do
    for _ <- 1..:rand.uniform(12), into: "" do
      Enum.random(@tokens) <> Enum.random(["", " "])
    end
  end

  defp random_bytes, do: for(_ <- 1..:rand.uniform(16), into: "", do: <<:rand.uniform(256) - 1>>)

  defp check(source) do
    case Expr.parse(source) do
      {:ok, %Expr{} = expression} ->
        try do
          Analytics.map(%{x: [1.0, -2.0], y: [3, 4], value: [:nan, 0.0]}, expression)
        rescue
          error in ArgumentError ->
            # Not a bare :badarg, which Elixir also raises as ArgumentError.
            refute error.message == "argument error" or
                     error.message =~ "errors were found at the given arguments",
                   "#{inspect(source)}: #{error.message}"

            error
        end

      {:error, message} when is_binary(message) ->
        :ok

      other ->
        flunk("#{inspect(source)} gave #{inspect(other)}")
    end
  end

  test "random token strings only ever parse or give a message" do
    :rand.seed(:exsss, {17, 1, 2026})
    for _ <- 1..3000, do: check(random_tokens())
  end

  test "random bytes only ever parse or give a message" do
    :rand.seed(:exsss, {17, 2, 2026})
    for _ <- 1..2000, do: check(random_bytes())
  end

  test "a quoted keyword key is a syntax error naming it, not a crash" do
    assert Expr.parse(~s("zzq": 1)) == {:error, "unknown name zzq (column 1)"}
    assert {:error, _} = Expr.parse(~s("x": 1))
    assert {:error, _} = Expr.parse(~s(f("zzq_never_again": 2\)))
  end

  test "parsing prints nothing, whatever the text" do
    printed =
      ExUnit.CaptureIO.capture_io(:stderr, fn ->
        for source <- [~s("x": 1), ~s(x("y": 2\)), "'c' + :\"x\"", "x ++ [1]"],
            do: Expr.parse(source)
      end)

    assert printed == ""
  end
end
