defmodule AnalyticsService.MixProject do
  # The analytics service: a Redis-prefetched cache answering map/reduce
  # queries over HTTP. A separate project that uses analytics as users do,
  # as a path dependency; Debian's jiffy is its only other need (:inets is
  # for :httpc, the client of run.exs and the tests).
  use Mix.Project

  def project do
    [
      app: :analytics_service,
      version: "0.1.0",
      elixir: "~> 1.14",
      elixirc_paths: elixirc_paths(Mix.env()),
      deps: [{:analytics, path: "../.."}]
    ]
  end

  def application do
    [
      mod: {AnalyticsService.Application, []},
      extra_applications: [:logger, :crypto, :inets, :jiffy]
    ]
  end

  # The tests start real redis-servers with the library's own test helpers.
  defp elixirc_paths(:test),
    do: ["lib", "test/support", Path.expand("../../test/support", __DIR__)]

  defp elixirc_paths(_env), do: ["lib"]
end
