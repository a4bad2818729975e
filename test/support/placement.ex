defmodule Analytics.Placement do
  @moduledoc """
  Where, in tests, a NIF call ran: on the caller's normal scheduler or on a
  dirty scheduler.

  It reads the VM's own record rather than timing: `fun` runs in a fresh
  process traced with `[:running, :scheduler_id]`. A NIF that reschedules
  itself with `enif_schedule_nif` onto a dirty scheduler makes its process
  leave the normal scheduler and come back in, still in the NIF, on a
  scheduler whose id is not one of the normal ones (the VM reports 0 for
  dirty schedulers). A NIF that runs where it was called produces no such
  event, since a normal scheduler cannot switch a process out in the
  middle of a NIF.
  """

  @doc """
  Runs `fun` in a traced process (spawned with `set_on_spawn`, so processes
  it starts are traced too) and returns `{result, dirty}`: `dirty` lists,
  one entry per traced process and function, the `Analytics.Native`
  functions seen running on a dirty scheduler, as `{pid, name}`.
  """
  def run(fun) do
    parent = self()

    {pid, monitor} =
      spawn_monitor(fn ->
        receive do
          :go -> send(parent, {:placement_result, self(), fun.()})
        end
      end)

    :erlang.trace(pid, true, [:running, :scheduler_id, :set_on_spawn])
    send(pid, :go)

    result =
      receive do
        {:placement_result, ^pid, result} -> result
        {:DOWN, ^monitor, :process, ^pid, reason} -> exit({:placement_fun_failed, reason})
      end

    receive do
      {:DOWN, ^monitor, :process, ^pid, _} -> :ok
    end

    {result, dirty_natives()}
  end

  @doc "`{result, names}`: the `Analytics.Native` functions `fun` ran on a dirty scheduler, without duplicates."
  def dirty_functions(fun) do
    {result, dirty} = run(fun)
    {result, dirty |> Enum.map(fn {_pid, name} -> name end) |> Enum.uniq() |> Enum.sort()}
  end

  @doc "True when `id`, from a `:scheduler_id` trace message, is not a normal scheduler."
  def dirty_scheduler?(id), do: id not in 1..:erlang.system_info(:schedulers)

  # Every trace message sent so far is in the mailbox once trace_delivered
  # answers; the traced processes are gone, so none come later.
  defp dirty_natives do
    ref = :erlang.trace_delivered(:all)

    receive do
      {:trace_delivered, :all, ^ref} -> :ok
    end

    drain([])
  end

  defp drain(acc) do
    receive do
      {:trace, pid, :in, {Analytics.Native, name, _arity}, id} ->
        drain(if dirty_scheduler?(id), do: [{pid, name} | acc], else: acc)

      message when is_tuple(message) and elem(message, 0) == :trace ->
        drain(acc)
    after
      0 -> acc |> Enum.reverse() |> Enum.uniq()
    end
  end
end
