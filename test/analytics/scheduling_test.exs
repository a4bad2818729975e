defmodule Analytics.SchedulingTest do
  use ExUnit.Case, async: false
  require Analytics
  alias Analytics.Series

  # Active time of the dirty CPU schedulers, from scheduler_wall_time.
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

  test "large reductions run on a dirty CPU scheduler" do
    big = Series.from_binary(:binary.copy(<<1.0::float-native-64>>, 4_000_000), :f64)
    before = dirty_cpu_active()
    for _ <- 1..5, do: assert(Analytics.reduce(big, :sum) == 4_000_000.0)
    assert dirty_cpu_active() > before
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

  test "many processes share one series safely" do
    s = Series.from_list(Enum.to_list(1..1_000_000), :i64)

    results =
      1..50
      |> Enum.map(fn i ->
        Task.async(fn -> Analytics.reduce(Series.slice(s, i, 1000), [:sum, :median]) end)
      end)
      |> Task.await_many(30_000)

    for {result, i} <- Enum.with_index(results, 1) do
      assert result == %{sum: Enum.sum((i + 1)..(i + 1000)), median: i + 500.5}
    end
  end

  test "a caller killed during a dirty reduction leaves the series and the VM intact" do
    s = Series.from_binary(:binary.copy(<<2::signed-native-64>>, 4_000_000), :i64)

    pids = for _ <- 1..20, do: spawn(fn -> Analytics.reduce(s, [:median, :n_distinct]) end)
    Enum.each(pids, &Process.exit(&1, :kill))

    assert Analytics.reduce(s, [:sum, :n_distinct]) == %{sum: 8_000_000, n_distinct: 1}
  end
end
