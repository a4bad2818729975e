defmodule AnalyticsService.Application do
  @moduledoc """
  The service's OTP application: one `DynamicSupervisor`
  (`AnalyticsService.Services`) under which `AnalyticsService.start/1` runs
  services, so that a service lives as long as the node, not as long as
  the process that asked for it (a script evaluated by `mix run --no-halt`
  ends as soon as it returns).
  """
  use Application

  @impl true
  def start(_type, _args) do
    DynamicSupervisor.start_link(strategy: :one_for_one, name: AnalyticsService.Services)
  end
end
