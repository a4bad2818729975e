defmodule Analytics.SchedulingTest do
  # Not async: the responsiveness probe needs the normal schedulers to itself.
  use ExUnit.Case, async: false
  require Analytics
  alias Analytics.{Placement, Series}

  # The normal-scheduler budget, and each family's estimated cost per element
  # (c_src/nif/schedule.hpp). A call whose estimate is within the budget runs
  # where it is called; above it, on a dirty CPU scheduler. The families are
  # checked at half and at twice their threshold, so tuning a constant a little
  # does not break them, but a family that never (or always) moves does.
  @budget_ns Analytics.info().normal_scheduler_budget_ns
  @list_decode 16.0

  defp threshold(ns_per_element), do: trunc(@budget_ns / ns_per_element)

  defp floats(n), do: Series.from_binary(:binary.copy(<<1.5::float-native-64>>, n), :f64)

  defp ints(n),
    do:
      Series.from_binary(
        for(i <- 1..n, into: <<>>, do: <<rem(i * 7919, 1000)::signed-native-64>>),
        :i64
      )

  # {family, Analytics.Native function, cost per element, fn n -> call}.
  # Inputs are built outside the traced call, which only runs the operation.
  defp families do
    [
      {"reduce :sum over a Series", :reduce, 0.5,
       fn n ->
         s = floats(n)
         fn -> Analytics.reduce(s, :sum) == 1.5 * n end
       end},
      {"reduce :median (a selection)", :reduce, 0.5 + 5.0,
       fn n ->
         s = floats(n)
         fn -> Analytics.reduce(s, :median) == 1.5 end
       end},
      {"reduce :n_distinct (hashing)", :reduce, 0.5 + 12.0,
       fn n ->
         s = floats(n)
         fn -> Analytics.reduce(s, :n_distinct) == 1 end
       end},
      {"reduce over a plain list", :reduce, 0.5 + @list_decode,
       fn n ->
         list = List.duplicate(1.5, n)
         fn -> Analytics.reduce(list, :sum) == 1.5 * n end
       end},
      # x * 2 is at most a few nodes at 2 ns each; 0.5 + 3 * 2.0 is its cost.
      {"fused reduce (map:)", :fused_reduce, 0.5 + 3 * 2.0,
       fn n ->
         s = floats(n)
         fn -> Analytics.reduce(s, :sum, map: Analytics.expr(x * 2)) == 3.0 * n end
       end},
      {"map", :map, 3 * 2.0 + 8.0,
       fn n ->
         s = floats(n)
         fn -> Series.size(Analytics.map(s, Analytics.expr(x * 2))) == n end
       end},
      {"filter", :filter, 3 * 2.0 + 8.0,
       fn n ->
         s = floats(n)
         fn -> Series.size(Analytics.filter(s, Analytics.expr(x > 1))) == n end
       end},
      {"group_reduce", :group_reduce, 60.0 + 0.5,
       fn n ->
         keys = ints(n)
         values = floats(n)
         fn -> map_size(Analytics.group_reduce(keys, values, :sum)) > 0 end
       end},
      {"bucket_reduce", :bucket_reduce, 60.0 + 0.5,
       fn n ->
         times = Series.from_binary(for(i <- 1..n, into: <<>>, do: <<i::signed-native-64>>), :i64)
         values = floats(n)
         fn -> map_size(Analytics.bucket_reduce(times, values, 100, :sum)) > 0 end
       end},
      {"downsample", :downsample, 3.0,
       fn n ->
         times = Series.from_binary(for(i <- 1..n, into: <<>>, do: <<i::signed-native-64>>), :i64)
         values = floats(n)
         fn -> is_map(Analytics.downsample(times, values, 100)) end
       end},
      {"Series.from_list", :series_from_list, @list_decode,
       fn n ->
         list = List.duplicate(1.5, n)
         fn -> Series.size(Series.from_list(list)) == n end
       end},
      {"Series.from_binary", :series_from_binary, 8.0,
       fn n ->
         bin = :binary.copy(<<1.5::float-native-64>>, n)
         fn -> Series.size(Series.from_binary(bin, :f64)) == n end
       end},
      {"Series.to_list", :series_to_list, 14.0,
       fn n ->
         s = floats(n)
         fn -> length(Series.to_list(s)) == n end
       end},
      {"Series.concat", :series_concat, 8.0,
       fn n ->
         a = floats(div(n, 2))
         b = floats(n - div(n, 2))
         fn -> Series.size(Series.concat([a, b])) == n end
       end},
      {"Series.cast", :series_cast, 8.0,
       fn n ->
         s = floats(n)
         fn -> Series.dtype(Series.cast(s, :i64)) == :i64 end
       end},
      {"Series.sort", :series_sort, 60.0,
       fn n ->
         s = ints(n)
         fn -> Series.size(Series.sort(s)) == n end
       end},
      {"Series.argsort", :series_argsort, 60.0,
       fn n ->
         s = ints(n)
         fn -> Series.size(Series.argsort(s)) == n end
       end}
    ]
  end

  test "each NIF family stays on the normal scheduler below its threshold and moves to a dirty one above it" do
    wrong =
      for {family, native, ns, build} <- families(),
          {n, expected} <- [{div(threshold(ns), 2), []}, {threshold(ns) * 2, [native]}],
          {result, dirty} = Placement.dirty_functions(build.(n)),
          result != true or dirty != expected do
        "#{family} of #{n} elements (threshold #{threshold(ns)}): answered #{inspect(result)}, " <>
          "ran #{inspect(dirty)} on a dirty scheduler, expected #{inspect(expected)}"
      end

    assert wrong == [], Enum.join(wrong, "\n")
  end

  test "the threshold is the budget itself: 200,000 floats summed stay, 200,001 move" do
    assert @budget_ns == 100_000
    edge = threshold(0.5)
    assert edge == 200_000
    at_edge = floats(edge)
    past_edge = floats(edge + 1)
    assert {300_000.0, []} == Placement.dirty_functions(fn -> Analytics.reduce(at_edge, :sum) end)

    assert {300_001.5, [:reduce]} ==
             Placement.dirty_functions(fn -> Analytics.reduce(past_edge, :sum) end)

    # A plain list costs its decoding too; only a bounded prefix is walked.
    list_edge = threshold(0.5 + @list_decode)
    short = List.duplicate(1, list_edge)
    long = List.duplicate(1, list_edge + 1)
    assert {list_edge, []} == Placement.dirty_functions(fn -> Analytics.reduce(short, :sum) end)

    assert {list_edge + 1, [:reduce]} ==
             Placement.dirty_functions(fn -> Analytics.reduce(long, :sum) end)
  end

  test "O(1) and O(log n) operations stay on the normal scheduler at any size" do
    s = floats(1_000_000)
    sorted = Series.sort(ints(100_000))
    state = Analytics.partial(s, [:approx_n_distinct, {:approx_quantile, 0.5}])

    {_, dirty} =
      Placement.dirty_functions(fn ->
        Series.slice(s, 1, 900_000)
        Series.to_binary(s)
        Series.search_sorted(sorted, 500)
        Analytics.finalize(Analytics.merge([state, state]))
      end)

    assert dirty == []
  end

  test "normal schedulers keep answering while every dirty CPU scheduler runs long native work" do
    n = 4_000_000

    s =
      Series.from_binary(
        for(i <- 1..n, into: <<>>, do: <<rem(i * 7919, n)::signed-native-64>>),
        :i64
      )

    workers = :erlang.system_info(:schedulers) + 1
    parent = self()

    probe =
      spawn_link(fn ->
        send(parent, :probe_started)
        probe_loop(parent, 0)
      end)

    assert_receive :probe_started

    # More long calls than there are normal schedulers: run on them, they
    # would leave the probe nowhere to run for the whole of a call.
    for _ <- 1..workers do
      spawn_link(fn ->
        {micros, ^n} = :timer.tc(fn -> Analytics.reduce(s, :n_distinct) end)
        send(parent, {:call_ms, div(micros, 1000)})
      end)
    end

    calls = for _ <- 1..workers, do: assert_receive({:call_ms, ms}, 120_000) && ms
    send(probe, {:report, self()})
    assert_receive {:probe, worst_gap_ms}, 5_000

    # The work was long enough to tell (a slow machine only makes it longer)...
    shortest = Enum.min(calls)

    assert shortest >= 200,
           "each native call took #{inspect(calls, charlists: :as_lists)} ms: too short to prove anything"

    # ... and the probe, asking for a 1 ms timer, never waited for a whole
    # call, as it would behind a blocked scheduler. The bound leaves room
    # for the OS not running the VM's threads on a loaded 2-core machine.
    assert worst_gap_ms < div(shortest * 3, 4),
           "the probe waited #{worst_gap_ms} ms at worst during native calls of #{inspect(calls, charlists: :as_lists)} ms"
  end

  # Sleeps 1 ms at a time, remembering the longest it took to wake up.
  defp probe_loop(parent, worst) do
    started = System.monotonic_time(:millisecond)

    receive do
      {:report, to} -> send(to, {:probe, worst})
    after
      1 -> probe_loop(parent, max(worst, System.monotonic_time(:millisecond) - started))
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
    before = Analytics.native_counters()

    callers =
      for _ <- 1..4 do
        pid = spawn(fn -> receive(do: (:go -> Analytics.reduce(s, [:median, :n_distinct]))) end)
        :erlang.trace(pid, true, [:running, :scheduler_id])
        send(pid, :go)
        pid
      end

    # Killed only once each is inside the reduction on a dirty scheduler.
    for pid <- callers do
      # (0: the scheduler id the VM reports for a dirty scheduler)
      assert_receive {:trace, ^pid, :in, {Analytics.Native, :reduce, 2}, 0}, 30_000
      Process.exit(pid, :kill)
    end

    assert Analytics.reduce(s, [:sum, :n_distinct]) == %{sum: 8_000_000, n_distinct: 1}

    # The killed calls' working copies (the median's) are freed once they end.
    assert Analytics.Eventually.wait_until(fn ->
             Analytics.native_counters().column_bytes <= before.column_bytes
           end),
           "native counters #{inspect(Analytics.native_counters())}, before #{inspect(before)}"
  end
end
