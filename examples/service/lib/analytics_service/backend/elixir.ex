defmodule AnalyticsService.Backend.Elixir do
  @moduledoc """
  Summaries in pure Elixir, as a service without the analytics library would
  compute them: decode the packed column, then `Enum` over the list. Only
  for benchmarks; it knows count, sum, mean, min, max, variance,
  standard_deviation, median and quantiles, over finite values.
  """
  @behaviour AnalyticsService.Backend

  alias AnalyticsService.BadRequest

  @impl true
  def summary(values, reducers) do
    list = for <<x::float-native-64 <- Analytics.Series.to_binary(values)>>, do: x
    # Sorted once, as a tuple: each quantile reads two elements by rank.
    sorted = if Enum.any?(reducers, &sorts?/1), do: list |> Enum.sort() |> List.to_tuple()
    Enum.map(reducers, &reduce(&1, list, sorted))
  end

  defp sorts?(reducer), do: reducer == :median or match?({:quantile, _}, reducer)

  defp reduce(:count, [], _sorted), do: 0
  defp reduce(:sum, [], _sorted), do: 0.0
  defp reduce(_reducer, [], _sorted), do: nil
  defp reduce(:count, list, _), do: length(list)
  defp reduce(:sum, list, _), do: Enum.sum(list)
  defp reduce(:mean, list, _), do: Enum.sum(list) / length(list)
  defp reduce(:min, list, _), do: Enum.min(list)
  defp reduce(:max, list, _), do: Enum.max(list)
  defp reduce(:standard_deviation, list, sorted), do: :math.sqrt(reduce(:variance, list, sorted))
  defp reduce(:median, list, sorted), do: reduce({:quantile, 0.5}, list, sorted)

  defp reduce(:variance, [_], _), do: nil

  defp reduce(:variance, list, _) do
    n = length(list)
    mean = Enum.sum(list) / n
    Enum.reduce(list, 0.0, fn x, acc -> acc + (x - mean) * (x - mean) end) / (n - 1)
  end

  # Linear interpolation between closest ranks, as Analytics does.
  defp reduce({:quantile, q}, _list, sorted) do
    last = tuple_size(sorted) - 1
    position = q * last
    low = floor(position)
    a = elem(sorted, low)
    a + (elem(sorted, min(low + 1, last)) - a) * (position - low)
  end

  defp reduce(other, _list, _sorted),
    do: raise(BadRequest, "the Elixir backend has no reducer #{inspect(other)}")
end
