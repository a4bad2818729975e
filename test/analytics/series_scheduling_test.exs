defmodule Analytics.SeriesSchedulingTest do
  # Sorting, filtering and mapping a large series run on dirty CPU
  # schedulers, by the same cost rule as the reductions.
  use ExUnit.Case, async: false
  require Analytics
  alias Analytics.Series

  defp dirty_cpu_active do
    normal = :erlang.system_info(:schedulers)
    dirty = :erlang.system_info(:dirty_cpu_schedulers)

    :erlang.statistics(:scheduler_wall_time)
    |> Enum.filter(fn {id, _active, _total} -> id > normal and id <= normal + dirty end)
    |> Enum.map(fn {_id, active, _total} -> active end)
    |> Enum.sum()
  end

  setup do
    :erlang.system_flag(:scheduler_wall_time, true)
    on_exit(fn -> :erlang.system_flag(:scheduler_wall_time, false) end)
  end

  test "large sort, argsort, filter and map run on a dirty CPU scheduler" do
    n = 1_000_000

    big =
      Series.from_binary(
        for(i <- 1..n, into: <<>>, do: <<rem(i * 7919, n)::signed-native-64>>),
        :i64
      )

    work = [
      fn -> assert Series.sort(big) |> Series.head(2) |> Series.to_list() == [0, 1] end,
      fn -> assert Series.argsort(big, direction: :desc) |> Series.size() == n end,
      fn -> assert Analytics.filter(big, Analytics.expr(x < 10)) |> Series.size() == 10 end,
      fn -> assert Analytics.map(big, Analytics.expr(x * 2)) |> Series.dtype() == :i64 end
    ]

    for run <- work do
      before = dirty_cpu_active()
      run.()
      assert dirty_cpu_active() > before
    end
  end
end
