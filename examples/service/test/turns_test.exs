defmodule AnalyticsService.TurnsTest do
  use ExUnit.Case, async: true
  alias AnalyticsService.Turns
  doctest Turns

  # Holds a turn of `turns` until told to go: returns the holder's pid once
  # it is inside its turn.
  defp hold_turn(turns) do
    test = self()

    holder =
      spawn(fn ->
        Turns.run(turns, 1_000, fn ->
          send(test, {:holding, self()})
          receive do: (:go -> :ok)
        end)

        send(test, {:released, self()})
      end)

    assert_receive {:holding, ^holder}, 5_000
    holder
  end

  test "a caller finding every turn taken waits, then gets :busy at its deadline" do
    turns = Turns.new(1)
    holder = hold_turn(turns)
    assert Turns.run(turns, 30, fn -> flunk("ran without a turn") end) == :busy
    send(holder, :go)
    assert_receive {:released, ^holder}, 5_000
    assert Turns.run(turns, 0, fn -> :ran end) == {:ok, :ran}
  end

  test "a waiting caller gets the turn as soon as it is given back" do
    turns = Turns.new(1)
    holder = hold_turn(turns)
    waiter = Task.async(fn -> Turns.run(turns, 10_000, fn -> :ran end) end)
    refute Task.yield(waiter, 50)
    send(holder, :go)
    assert Task.await(waiter) == {:ok, :ran}
  end

  test "max turns run at once, and a caller that raises gives its turn back" do
    turns = Turns.new(2)
    first = hold_turn(turns)
    second = hold_turn(turns)
    assert Turns.run(turns, 0, fn -> :third end) == :busy
    send(first, :go)
    assert_receive {:released, ^first}, 5_000
    assert_raise RuntimeError, "boom", fn -> Turns.run(turns, 0, fn -> raise "boom" end) end
    assert Turns.run(turns, 0, fn -> :third end) == {:ok, :third}
    send(second, :go)
  end
end
