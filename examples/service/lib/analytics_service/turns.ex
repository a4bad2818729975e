defmodule AnalyticsService.Turns do
  @moduledoc """
  At most `max` pieces of work at once, taken in turns: a counting
  semaphore over `:atomics`, shared by every connection of a server
  without a process in between.

  A caller that finds every turn taken looks again every few milliseconds
  until its deadline, then gives up: there is no queue to grow. A turn is
  given back in an `after`, so work that raises or exits gives it back; a
  process killed in its turn would keep it, which is why the server's
  connections are killed only while they wait for a request, or when the
  server itself stops (its turns go with it).

      iex> turns = AnalyticsService.Turns.new(1)
      iex> AnalyticsService.Turns.run(turns, 100, fn -> :done end)
      {:ok, :done}
  """
  @enforce_keys [:taken, :max]
  defstruct [:taken, :max]

  @type t :: %__MODULE__{taken: :atomics.atomics_ref(), max: pos_integer()}

  # How often a waiting caller looks again.
  @poll_ms 5

  @doc "Turns for `max` pieces of work at once."
  @spec new(pos_integer()) :: t()
  def new(max) when is_integer(max) and max > 0,
    do: %__MODULE__{taken: :atomics.new(1, signed: true), max: max}

  @doc """
  Runs `work` in a turn, waiting up to `timeout` ms for one: `{:ok,
  result}`, or `:busy` when no turn came in time.
  """
  @spec run(t(), non_neg_integer(), (() -> result)) :: {:ok, result} | :busy when result: term()
  def run(%__MODULE__{} = turns, timeout, work) do
    deadline = System.monotonic_time(:millisecond) + timeout
    wait_for_turn(turns, deadline, work)
  end

  defp wait_for_turn(turns, deadline, work) do
    if :atomics.add_get(turns.taken, 1, 1) <= turns.max do
      try do
        {:ok, work.()}
      after
        :atomics.sub(turns.taken, 1, 1)
      end
    else
      :atomics.sub(turns.taken, 1, 1)

      if System.monotonic_time(:millisecond) < deadline do
        Process.sleep(@poll_ms)
        wait_for_turn(turns, deadline, work)
      else
        :busy
      end
    end
  end
end
