defmodule Analytics.Approx do
  @moduledoc "Comparison of results with a relative tolerance for floats."
  import ExUnit.Assertions

  @doc """
  Asserts `actual` equals `expected`: integers and nil exactly, floats within
  `rel` of the larger magnitude (or `abs` near zero).
  """
  def assert_close(actual, expected, context, rel \\ 1.0e-9, abs \\ 1.0e-9)

  def assert_close(actual, expected, context, rel, abs) when is_float(expected) do
    assert is_float(actual),
           "#{label(context)}: expected a float near #{expected}, got #{inspect(actual)}"

    tolerance = max(abs, rel * max(Kernel.abs(actual), Kernel.abs(expected)))

    assert Kernel.abs(actual - expected) <= tolerance,
           "#{label(context)}: #{actual} is not within #{tolerance} of #{expected}"
  end

  def assert_close(actual, expected, context, _rel, _abs) do
    assert actual === expected,
           "#{label(context)}: expected #{inspect(expected)}, got #{inspect(actual)}"
  end

  defp label(context) when is_binary(context), do: context
  defp label(context), do: inspect(context)
end
