defmodule AnalyticsService.Backend.Native do
  @moduledoc "Summaries by `Analytics.reduce/2`: one pass in C++ for all reducers."
  @behaviour AnalyticsService.Backend

  @impl true
  def summary(values, reducers) do
    results = Analytics.reduce(values, reducers)
    Enum.map(reducers, &Map.fetch!(results, &1))
  end
end
