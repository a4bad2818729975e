defmodule AnalyticsService.Metrics do
  @moduledoc """
  Metrics as the service stores them: a metric `name` is two packed columns
  in Redis, `metric:<name>:ts` (`:i64` unix seconds, sorted ascending) and
  `metric:<name>:values` (`:f64`), prefetched by an `Analytics.Cache`.
  """
  alias Analytics.{Cache, Series}

  @type columns :: %{timestamp: Series.t(), value: Series.t()}

  @doc "The SCAN patterns that make a cache hold every metric."
  @spec scan_patterns() :: [{String.t(), Series.dtype()}]
  def scan_patterns, do: [{"metric:*:ts", :i64}, {"metric:*:values", :f64}]

  @doc "The Redis keys of a metric's timestamps and values."
  @spec keys(String.t()) :: {String.t(), String.t()}
  def keys(name), do: {"metric:#{name}:ts", "metric:#{name}:values"}

  @doc "The names of the cached metrics, sorted."
  @spec names(Cache.name()) :: [String.t()]
  def names(cache) do
    for "metric:" <> rest <- Cache.keys(cache),
        String.ends_with?(rest, ":values"),
        do: String.replace_suffix(rest, ":values", "")
  end

  @doc "A metric's columns, or `:error` when it is not cached (or torn)."
  @spec fetch(Cache.name(), String.t()) :: {:ok, columns()} | :error
  def fetch(cache, name) do
    {ts_key, values_key} = keys(name)

    with {:ok, ts} <- Cache.get(cache, ts_key),
         {:ok, values} <- Cache.get(cache, values_key),
         true <- Series.size(ts) == Series.size(values) do
      {:ok, %{timestamp: ts, value: values}}
    else
      _ -> :error
    end
  end

  @doc """
  The rows with `from <= timestamp < to` (`nil` leaves that side open), as
  slices that share the cached columns: two binary searches, no copy.
  """
  @spec window(columns(), integer() | nil, integer() | nil) :: columns()
  def window(%{timestamp: ts, value: values}, from, to) do
    first = if from, do: Series.search_sorted(ts, from), else: 0
    last = if to, do: Series.search_sorted(ts, to), else: Series.size(ts)
    length = max(last - first, 0)
    %{timestamp: Series.slice(ts, first, length), value: Series.slice(values, first, length)}
  end

  @doc "The first and last timestamp, or `nil` for an empty metric."
  @spec span(columns()) :: {integer(), integer()} | nil
  def span(%{timestamp: ts}) do
    case Series.size(ts) do
      0 -> nil
      size -> {Series.at(ts, 0), Series.at(ts, size - 1)}
    end
  end
end
