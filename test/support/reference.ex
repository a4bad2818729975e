defmodule Analytics.Reference do
  @moduledoc """
  Pure-Elixir reference reducers for finite values: the model the native
  kernels are tested against. Slow on purpose (sorting, two passes, exact
  integer maths) so it is obviously right.
  """

  @doc "The reference answer of `reducer` on a list of finite numbers."
  def reduce([], reducer), do: empty(reducer)
  def reduce(values, :sum), do: Enum.sum(values)
  def reduce(values, :count), do: length(values)
  def reduce(values, :min), do: Enum.min(values)
  def reduce(values, :max), do: Enum.max(values)
  def reduce(values, :mean), do: Enum.sum(values) / length(values)
  def reduce(values, :product), do: Enum.reduce(values, 1, &(&1 * &2))
  def reduce(values, :argmin), do: first_index(values, Enum.min(values))
  def reduce(values, :argmax), do: first_index(values, Enum.max(values))
  def reduce(values, :n_distinct), do: values |> Enum.uniq() |> length()
  def reduce(values, :median), do: reduce(values, {:quantile, 0.5})
  def reduce(values, :variance), do: reduce(values, {:variance, ddof: 1})
  def reduce(values, :standard_deviation), do: reduce(values, {:standard_deviation, ddof: 1})

  def reduce(values, {:variance, ddof: ddof}) do
    n = length(values)

    if n <= ddof do
      nil
    else
      mean = Enum.sum(values) / n
      Enum.reduce(values, 0.0, fn x, acc -> acc + (x - mean) * (x - mean) end) / (n - ddof)
    end
  end

  def reduce(values, {:standard_deviation, opts}) do
    case reduce(values, {:variance, opts}) do
      nil -> nil
      variance -> :math.sqrt(variance)
    end
  end

  def reduce(values, {:quantile, q}) do
    sorted = values |> Enum.sort() |> List.to_tuple()
    position = q * (tuple_size(sorted) - 1)
    rank = floor(position)
    below = elem(sorted, rank) * 1.0
    above = elem(sorted, min(rank + 1, tuple_size(sorted) - 1)) * 1.0
    below + (above - below) * (position - rank)
  end

  defp first_index(values, wanted), do: Enum.find_index(values, &(&1 == wanted))

  defp empty(:count), do: 0
  defp empty(:n_distinct), do: 0
  defp empty(:sum), do: 0
  defp empty(:product), do: 1
  defp empty(_), do: nil

  @doc """
  A sort key that orders numbers exactly (an integer against a float
  included), `:neg_infinity` first and NaN above `:infinity`.
  """
  def order_key(:neg_infinity), do: {0, 0, 0.0}
  def order_key(:infinity), do: {2, 0, 0.0}
  def order_key(:nan), do: {3, 0, 0.0}
  def order_key(integer) when is_integer(integer), do: {1, integer, 0.0}
  def order_key(float) when is_float(float), do: {1, trunc(float), float - trunc(float)}

  @doc "Exact comparison, as Analytics.Expr promises: nil when NaN is involved."
  def compare(a, b) when a == :nan or b == :nan, do: nil

  def compare(a, b) do
    cond do
      order_key(a) < order_key(b) -> :lt
      order_key(a) > order_key(b) -> :gt
      true -> :eq
    end
  end

  @doc "Values sorted stably, NaN last ascending and first descending."
  def sort(values, direction), do: Enum.sort_by(values, &order_key/1, direction)

  @doc "The positions that sort `values` stably."
  def argsort(values, direction) do
    values
    |> Enum.with_index()
    |> Enum.sort_by(fn {value, _} -> order_key(value) end, direction)
    |> Enum.map(&elem(&1, 1))
  end

  @doc "Where `needle` goes in ascending `sorted` (NaN last), by counting."
  def search_sorted(sorted, needle, :left),
    do: Enum.count(sorted, &(order_key(&1) < order_key(needle)))

  def search_sorted(sorted, needle, :right),
    do: Enum.count(sorted, &(order_key(&1) <= order_key(needle)))

  @doc "div and rem on integers as Analytics.Expr defines them: by zero, 0 and the dividend."
  def int_div(_x, 0), do: 0
  def int_div(x, y), do: div(x, y)
  def int_rem(x, 0), do: x
  def int_rem(x, y), do: rem(x, y)
end
