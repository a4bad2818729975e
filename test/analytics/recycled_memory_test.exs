defmodule Analytics.RecycledMemoryTest do
  # Freed buffers of 64 KiB and more are kept (up to 64 MiB) and handed out
  # again, to columns and to temporaries such as a quantile's copy or an
  # n_distinct table: reused memory must never leak one answer into another.
  # Not async: it reads the process-wide pool's counters.
  use ExUnit.Case, async: false
  alias Analytics.{Reference, Series}

  @max_retained 64 * 1024 * 1024

  # Drops `fun`'s columns: the buffers go back when their terms are collected.
  defp collected(fun) do
    Task.async(fun) |> Task.await(60_000)
  end

  test "a freed column's buffer is kept, reused with the right values, and given back on request" do
    Analytics.release_memory()
    assert Analytics.native_counters().retained_bytes == 0

    collected(fn -> Series.size(Series.from_list(Enum.to_list(1..100_000))) end)
    kept = Analytics.native_counters().retained_bytes
    assert kept >= 800_000

    list = for i <- 1..100_000, do: i * 0.5
    series = Series.from_list(list)
    assert Analytics.native_counters().retained_bytes < kept
    assert Series.to_list(series) == list
    assert Analytics.reduce(series, :sum) == 2_500_025_000.0

    collected(fn -> Series.size(Series.from_list(Enum.to_list(1..300_000))) end)
    retained = Analytics.native_counters().retained_bytes
    assert retained > 0 and retained <= @max_retained
    assert Analytics.release_memory() == retained
    assert Analytics.native_counters().retained_bytes == 0
    assert Analytics.release_memory() == 0
  end

  test "the pool never keeps more than its bound" do
    collected(fn ->
      for _ <- 1..12,
          do: Series.from_binary(:binary.copy(<<1.0::float-native-64>>, 1_000_000), :f64)
    end)

    assert Analytics.native_counters().retained_bytes <= @max_retained
    Analytics.release_memory()
  end

  # Under the sanitized build on two busy cores this takes tens of seconds.
  @tag timeout: 300_000
  test "50 processes selecting quantiles and counting distinct values at once each get their own answer" do
    reducers = [{:quantile, 0.1}, :median, {:quantile, 0.99}, :n_distinct]

    tasks =
      for i <- 1..50 do
        Task.async(fn ->
          :rand.seed(:exsss, {i, 11, 2026})
          # 80 KiB and more: buffers the pool keeps.
          n = 10_000 + i * 97
          list = for _ <- 1..n, do: :rand.uniform(1_000_000 + i)
          series = Series.from_list(list, :i64)
          want = Map.new(reducers, &{&1, Reference.reduce(list, &1)})

          for _ <- 1..3 do
            # The list goes through a column (these reducers need one), from the pool too.
            Analytics.reduce(series, reducers) == want and
              Analytics.reduce(list, reducers) == want
          end
        end)
      end

    assert Enum.map(tasks, &Task.await(&1, 300_000)) == List.duplicate([true, true, true], 50)
    assert Analytics.native_counters().retained_bytes <= @max_retained
  end
end
