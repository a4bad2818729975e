defmodule Analytics.SeriesLifetimeTest do
  # Not async: these read the native column counters, which count every
  # column in the VM; run alone, nothing else moves them.
  use ExUnit.Case, async: false
  import Analytics.Eventually
  alias Analytics.Series

  @n 1_000_000
  @bytes @n * 8

  # A process holding whatever `init` returns. swap/2 replaces what it holds
  # (the old value is dropped by a tail call, so no stack slot still refers
  # to it), drops a small sentinel column too, and collects its garbage.
  # The VM runs the destructors of resources freed by a collection a moment
  # later, not during it: settle/1 waits for the column bytes to reach what
  # they should be, and since the sentinel's bytes are counted until then,
  # reaching them means this collection's frees have all run.
  defp holder(init) do
    parent = self()
    pid = spawn_link(fn -> hold(init.(), parent) end)
    assert_receive {:holding, ^pid, _}, 10_000
    pid
  end

  defp hold(held, to) do
    send(to, {:holding, self(), checksum(held)})

    receive do
      {:swap, fun, from} -> swapped(fun.(held), from)
    end
  end

  defp swapped(held, from) do
    Series.from_list([1.0, 2.0, 3.0])
    :erlang.garbage_collect()
    hold(held, from)
  end

  defp swap(pid, fun) do
    send(pid, {:swap, fun, self()})
    assert_receive {:holding, ^pid, checksum}, 10_000
    checksum
  end

  defp bytes, do: Analytics.native_counters().column_bytes

  defp settle(expected) do
    assert wait_until(fn -> bytes() == expected end),
           "column bytes #{bytes()}, expected #{expected}"
  end

  # What the holder says about what it holds: every byte of a binary read
  # (its CRC), never a series or a binary itself, which would give the test
  # process a reference of its own.
  defp checksum(bin) when is_binary(bin), do: :erlang.crc32(bin)
  defp checksum(%Series{}), do: :series
  defp checksum(tuple) when is_tuple(tuple), do: tuple |> Tuple.to_list() |> Enum.map(&checksum/1)
  defp checksum(list) when is_list(list), do: Enum.map(list, &checksum/1)
  defp checksum(other) when is_number(other) or is_atom(other), do: other

  defp column, do: Series.from_binary(:binary.copy(<<7::signed-native-64>>, @n), :i64)
  defp column_crc, do: :erlang.crc32(:binary.copy(<<7::signed-native-64>>, @n))

  # Earlier tests' processes are gone, but their columns' destructors may
  # still be on their way: start once the count holds still.
  setup do
    stable = fn -> bytes() == (Process.sleep(25) && bytes()) end
    assert wait_until(stable)
    %{before: bytes()}
  end

  test "taking binaries of a column allocates no native memory", %{before: before} do
    pid = holder(&column/0)
    settle(before + @bytes)
    buffers = Analytics.native_counters().column_buffers

    [:series, crc, _] =
      swap(pid, fn s -> [s, Series.to_binary(s), Series.to_binary(Series.slice(s, 10, 100))] end)

    assert crc == column_crc()
    settle(before + @bytes)
    assert Analytics.native_counters().column_buffers == buffers
  end

  test "the column lives exactly as long as its series or any binary of it", %{before: before} do
    pid = holder(&column/0)
    settle(before + @bytes)

    # Binary kept, series dropped: the binary alone keeps the whole column.
    assert swap(pid, &Series.to_binary/1) == column_crc()
    settle(before + @bytes)
    assert swap(pid, & &1) == column_crc()

    # The last reference gone, the column is freed.
    assert swap(pid, fn _bin -> nil end) == nil
    settle(before)
  end

  test "a series outlives its binaries, and a slice keeps its parent's column", %{before: before} do
    pid = holder(&column/0)
    settle(before + @bytes)

    assert swap(pid, fn s -> {s, Series.to_binary(s)} end) == [:series, column_crc()]
    assert swap(pid, fn {s, _bin} -> s end) == :series
    settle(before + @bytes)

    # A 10-element slice shares its parent's buffer, so it keeps all of it.
    assert swap(pid, &Series.slice(&1, @n - 10, 10)) == :series
    settle(before + @bytes)

    assert swap(pid, &Series.to_list/1) == List.duplicate(7, 10)
    settle(before)
  end
end
