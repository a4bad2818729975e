defmodule Analytics.Eventually do
  @moduledoc "Waiting, in tests, for something another process or thread will make true."

  @doc "Polls `check` every 25 ms for up to `timeout_ms`; true once it holds, false if it never does."
  def wait_until(check, timeout_ms \\ 10_000) do
    cond do
      check.() -> true
      timeout_ms <= 0 -> false
      true -> Process.sleep(25) && wait_until(check, timeout_ms - 25)
    end
  end
end
