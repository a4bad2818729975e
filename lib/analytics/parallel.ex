defmodule Analytics.Parallel do
  # Splits a large reduction into slices reduced concurrently on the dirty CPU
  # schedulers, merged through partial states.
  @moduledoc false

  alias Analytics.{Query, Reducers, Series}

  # Below this a single dirty call is as fast: a 1M-row sum takes ~0.3 ms.
  @auto_rows 2_000_000

  @doc false
  def auto_rows, do: @auto_rows

  @doc false
  # Whether reduce/3 should split this call.
  def split?(_input, _reducers, _specs, false), do: false

  def split?(input, reducers, specs, :auto) do
    rows = series_rows(input)
    rows != nil and rows >= @auto_rows and slices() > 1 and mergeable?(reducers, specs)
  end

  def split?(input, reducers, specs, true) do
    if series_rows(input) == nil do
      raise ArgumentError, "parallel: true needs a Series (or a map of Series) as input"
    end

    Enum.each(Enum.zip(List.wrap(reducers), specs), &Reducers.mergeable!/1)
    true
  end

  def split?(_input, _reducers, _specs, other) do
    raise ArgumentError, "parallel: must be :auto, true or false, got: #{inspect(other)}"
  end

  @doc false
  def reduce(input, reducers, opts) do
    rows = series_rows(input)
    count = max(min(slices(), rows), 1)

    input
    |> pieces(rows, count)
    |> Task.async_stream(&safely(fn -> Analytics.partial(&1, reducers, opts) end),
      max_concurrency: count,
      timeout: :infinity
    )
    |> Enum.map(fn {:ok, result} -> unwrap(result) end)
    |> Analytics.merge()
    |> Analytics.finalize()
  end

  defp slices, do: max(:erlang.system_info(:dirty_cpu_schedulers_online), 1)

  defp mergeable?(reducers, specs) do
    Enum.all?(Enum.zip(List.wrap(reducers), specs), fn pair ->
      try do
        Reducers.mergeable!(pair) == :ok
      rescue
        ArgumentError -> false
      end
    end)
  end

  # Rows of a Series or of a map of Series; nil for anything else.
  defp series_rows(%Series{} = series), do: Series.size(series)

  defp series_rows(%{} = columns) when not is_struct(columns) and map_size(columns) > 0 do
    if Enum.all?(Map.values(columns), &is_struct(&1, Series)), do: Query.rows(columns)
  end

  defp series_rows(_input), do: nil

  defp pieces(input, rows, count) do
    for i <- 0..(count - 1) do
      first = div(rows * i, count)
      length = div(rows * (i + 1), count) - first
      slice(input, first, length)
    end
  end

  defp slice(%Series{} = series, first, length), do: Series.slice(series, first, length)

  defp slice(columns, first, length),
    do: Map.new(columns, fn {k, s} -> {k, slice(s, first, length)} end)

  # An exception in a slice is re-raised in the caller, as a serial call would.
  defp safely(fun) do
    {:ok, fun.()}
  rescue
    exception -> {:raise, exception, __STACKTRACE__}
  end

  defp unwrap({:ok, state}), do: state
  defp unwrap({:raise, exception, stacktrace}), do: reraise(exception, stacktrace)
end
