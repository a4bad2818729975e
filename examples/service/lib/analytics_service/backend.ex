defmodule AnalyticsService.Backend do
  @moduledoc """
  What reduces a metric's values for the summary endpoint. The service runs
  on `AnalyticsService.Backend.Native` (the analytics library); the
  pure-Elixir `AnalyticsService.Backend.Elixir` exists so that the load
  benchmark can measure the same service without it.
  """

  @doc "Every reducer's result, in the order given."
  @callback summary(Analytics.Series.t(), [Analytics.reducer(), ...]) :: [term()]
end
