defmodule Analytics.ErrorTermsTest do
  # Errors raised in native code show the offending term as inspect/1 shows
  # it, never in Erlang syntax.
  use ExUnit.Case, async: true
  alias Analytics.Series

  # An error that quotes any term but a non-negative integer.
  defp native_message(term) do
    error = assert_raise ArgumentError, fn -> Series.slice(Series.from_list([1.0]), term, 0) end
    prefix = "offset must be a non-negative integer, got: "
    assert String.starts_with?(error.message, prefix)
    String.replace_prefix(error.message, prefix, "")
  end

  test "terms read as inspect/1 writes them" do
    terms = [
      :atom,
      :"two words",
      :ok?,
      nil,
      true,
      Analytics.Series,
      "f64",
      "quote \" and \\ and \n",
      "é ü",
      <<1, 2, 255>>,
      <<>>,
      [],
      [1, 2.5, :x],
      [dtype: :i64, size: 3],
      [{"a", 1}],
      'abc',
      [1 | 2],
      {},
      {1, {:column, 0}},
      %{},
      %{a: 1},
      %{"k" => [1]},
      %{1 => 2},
      %Analytics.Redis.Error{message: "ERR x"},
      self(),
      make_ref(),
      2 ** 80,
      -1,
      -(2 ** 70),
      1.0e20,
      -0.5
    ]

    for term <- terms do
      assert native_message(term) == inspect(term), "for #{inspect(term)}"
    end
  end

  test "functions and ports read as Elixir names them" do
    assert native_message(&String.length/1) =~ ~r/^#Function</
    assert native_message(hd(Port.list())) =~ ~r/^#Port<\d+\.\d+>$/
  end

  test "a huge or deeply nested term is cut short" do
    long = native_message(Enum.to_list(1..100_000))
    assert String.ends_with?(long, "...")
    assert String.length(long) < 200

    deep = Enum.reduce(1..100_000, :leaf, fn _, acc -> [acc] end)
    assert String.ends_with?(native_message(deep), "...")

    assert String.ends_with?(native_message(String.duplicate("é", 1_000)), "...")
    assert String.ends_with?(native_message(2 ** 10_000), "...")
  end
end
