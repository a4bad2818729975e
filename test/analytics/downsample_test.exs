defmodule Analytics.DownsampleTest do
  # Analytics.downsample/4 against pure-Elixir models of M4 and LTTB, and
  # M4's promise: a line through its points, drawn `width` pixels wide,
  # covers exactly the pixels of a line through every point.
  use ExUnit.Case, async: true
  alias Analytics.Series

  @height 64

  defp random_series(n, seed, opts \\ []) do
    :rand.seed(:exsss, {seed, 7, 11})
    gap = Keyword.get(opts, :gap, 10)
    times = Enum.scan(1..n, 0, fn _, t -> t + :rand.uniform(gap) - 1 end)

    values =
      for _ <- 1..n do
        cond do
          opts[:nan] && :rand.uniform(50) == 1 -> :nan
          opts[:ints] -> :rand.uniform(1_000) - 500
          true -> :rand.normal() * 100
        end
      end

    {times, values}
  end

  defp run(times, values, width, opts) do
    %{times: t, values: v} = Analytics.downsample(times, values, width, opts)
    Enum.zip(Series.to_list(t), Series.to_list(v))
  end

  # The points of [from, to] with a value, in order, as {time, float}.
  defp points(times, values, from, to) do
    for {t, v} <- Enum.zip(times, values), is_number(v), t >= from and t <= to, do: {t, v / 1}
  end

  defp range(times, opts),
    do: {Keyword.get(opts, :from, hd(times)), Keyword.get(opts, :to, List.last(times))}

  defp slice_of(t, from, to, width), do: div((t - from) * width, to - from + 1)

  defp m4_model(times, values, width, opts) do
    {from, to} = range(times, opts)

    times
    |> points(values, from, to)
    |> Enum.with_index()
    |> Enum.chunk_by(fn {{t, _}, _} -> slice_of(t, from, to, width) end)
    |> Enum.flat_map(fn slice ->
      # min_by and max_by keep the first of equals.
      picks = [
        hd(slice),
        Enum.min_by(slice, fn {{_, v}, _} -> v end),
        Enum.max_by(slice, fn {{_, v}, _} -> v end),
        List.last(slice)
      ]

      picks |> Enum.uniq_by(&elem(&1, 1)) |> Enum.sort_by(&elem(&1, 1)) |> Enum.map(&elem(&1, 0))
    end)
  end

  defp lttb_model(times, values, count, opts) do
    {from, to} = range(times, opts)

    raw =
      for {t, v} <- Enum.zip(times, values), t >= from and t <= to do
        {t, if(is_number(v), do: v / 1, else: :nan)}
      end
      |> List.to_tuple()

    with_value = for i <- 0..(tuple_size(raw) - 1)//1, is_float(elem(elem(raw, i), 1)), do: i

    cond do
      with_value == [] -> []
      length(with_value) <= count -> for i <- with_value, do: elem(raw, i)
      count == 1 -> [elem(raw, List.last(with_value))]
      count == 2 -> [elem(raw, hd(with_value)), elem(raw, List.last(with_value))]
      true -> lttb_runs(raw, hd(with_value), List.last(with_value), count)
    end
  end

  # count - 2 runs of equal length over the indices between the ends.
  defp lttb_runs(raw, first, last, count) do
    {t0, _} = elem(raw, first)
    x = fn i -> (elem(elem(raw, i), 0) - t0) / 1 end
    y = fn i -> elem(elem(raw, i), 1) end
    start = fn r -> first + 1 + div((last - first - 1) * r, count - 2) end
    valued = fn range -> for i <- range, is_float(y.(i)), do: i end

    {chosen, _} =
      Enum.flat_map_reduce(0..(count - 3), first, fn r, previous ->
        next_stop = if r + 1 < count - 2, do: start.(r + 2), else: last + 1
        next = valued.(start.(r + 1)..(next_stop - 1)//1)

        {mean_x, mean_y} =
          if next == [],
            do: {x.(last), y.(last)},
            else:
              {Enum.sum(Enum.map(next, x)) / length(next),
               Enum.sum(Enum.map(next, y)) / length(next)}

        area = fn i ->
          abs(
            (x.(previous) - mean_x) * (y.(i) - y.(previous)) -
              (x.(previous) - x.(i)) * (mean_y - y.(previous))
          )
        end

        # Enum.max_by keeps the first of equals, as the kernel does.
        case valued.(start.(r)..(start.(r + 1) - 1)//1) do
          [] -> {[], previous}
          candidates -> Enum.max_by(candidates, area) |> then(&{[elem(raw, &1)], &1})
        end
      end)

    [elem(raw, first)] ++ chosen ++ [elem(raw, last)]
  end

  # The pixels a line through `points` covers, `width` columns over [from, to]
  # and @height rows over [low, high]: within a column, the rows between each
  # pair of neighbours; across columns, the rows the segment passes in each
  # column it crosses.
  defp raster(points, width, {from, to}, {low, high}) do
    span = to - from + 1
    row = fn v -> if high == low, do: 0, else: floor((v - low) / (high - low) * (@height - 1)) end
    rows = fn a, b -> Enum.min([row.(a), row.(b)])..Enum.max([row.(a), row.(b)]) end

    points
    |> Enum.chunk_every(2, 1, :discard)
    |> Enum.flat_map(fn [{ta, va}, {tb, vb}] ->
      {ca, cb} = {slice_of(ta, from, to, width), slice_of(tb, from, to, width)}

      if ca == cb do
        for r <- rows.(va, vb), do: {ca, r}
      else
        {xa, xb} = {(ta - from) * width / span, (tb - from) * width / span}
        at = fn x -> va + (vb - va) * (x - xa) / (xb - xa) end

        for c <- ca..cb, r <- rows.(at.(max(xa, c)), at.(min(xb, c + 1))), do: {c, r}
      end
    end)
    |> Enum.concat(for {t, v} <- points, do: {slice_of(t, from, to, width), row.(v)})
    |> MapSet.new()
  end

  test "M4 chooses what the model chooses, and draws every point's pixels" do
    cases = [
      {2_000, 1, 100, []},
      {5_000, 2, 37, [gap: 100]},
      {3_000, 3, 640, [nan: true]},
      {3_000, 4, 1_200, [ints: true]},
      {10, 5, 4, []},
      {1_000, 6, 50, [gap: 1]}
    ]

    for {n, seed, width, series_opts} <- cases,
        opts <- [[], [from: 1_000, to: 4_000], [from: -50, to: 20]] do
      {times, values} = random_series(n, seed, series_opts)
      expected = m4_model(times, values, width, opts)
      got = run(times, values, width, opts)
      assert got == expected, "n #{n} seed #{seed} width #{width} #{inspect(opts)}"

      all = points(times, values, elem(range(times, opts), 0), elem(range(times, opts), 1))

      if all != [] do
        bounds = all |> Enum.map(&elem(&1, 1)) |> Enum.min_max()

        assert raster(got, width, range(times, opts), bounds) ==
                 raster(all, width, range(times, opts), bounds)
      end

      assert length(got) <= 4 * width
    end
  end

  test "LTTB chooses what the model chooses" do
    for {n, seed, count, series_opts} <- [
          {2_000, 7, 100, []},
          {1_001, 8, 3, []},
          {500, 9, 499, [nan: true]},
          {3_000, 15, 100, [nan: true]},
          {3_000, 10, 640, [ints: true, gap: 1_000]},
          {5, 11, 10, []}
        ],
        opts <- [[], [from: 500, to: 9_000]] do
      {times, values} = random_series(n, seed, series_opts)
      got = run(times, values, count, [method: :lttb] ++ opts)
      assert got == lttb_model(times, values, count, opts), "n #{n} seed #{seed} count #{count}"
    end

    {times, values} = random_series(100, 12)
    assert [{t, _}] = run(times, values, 1, method: :lttb)
    assert t == List.last(times)
    assert [{first, _}, {last, _}] = run(times, values, 2, method: :lttb)
    assert {first, last} == {hd(times), List.last(times)}
  end

  test "edges: empty, one point, all NaN, a range with nothing, nanosecond times near the i64 limit" do
    for method <- [:m4, :lttb] do
      assert run([], [], 10, method: method) == []
      assert run([5], [1.5], 10, method: method) == [{5, 1.5}]
      assert run([1, 2, 3], [:nan, :nan, :nan], 10, method: method) == []
      assert run([1, 2, 3], [1.0, 2.0, 3.0], 10, method: method, from: 10, to: 20) == []
      assert run([1, 2, 3], [1, 2, 3], 1, method: method, from: 2, to: 2) == [{2, 2.0}]
    end

    top = 9_223_372_036_854_775_807
    times = Enum.map(999..0//-1, &(top - &1 * 1_000_000_007))
    values = Enum.map(1..1_000, &:math.sin(&1 / 10))
    assert run(times, values, 7, []) == m4_model(times, values, 7, [])

    assert run(times, values, 7, from: -top - 1, to: top) ==
             m4_model(times, values, 7, from: -top - 1, to: top)
  end

  test "Series of either dtype, misaligned slices and lists give the same answer" do
    {times, values} = random_series(4_001, 13)
    ts = Series.from_list(times, :i64)
    vs = Series.from_list(values)
    expected = run(times, values, 100, [])
    assert run(ts, vs, 100, []) == expected

    sliced = run(Series.slice(ts, 1, 4_000), Series.slice(vs, 1, 4_000), 100, [])
    assert sliced == run(tl(times), tl(values), 100, [])

    {times, ints} = random_series(1_000, 14, ints: true)

    assert run(times, Series.from_list(ints, :i64), 30, []) ==
             run(times, Enum.map(ints, &(&1 / 1)), 30, [])
  end

  test "bad input is an ArgumentError naming the problem" do
    cases = [
      {[[2, 1, 3], [1, 2, 3], 10, []], ~r/times must be sorted ascending; index 1 is earlier/},
      {[[1, 2], [1.0], 10, []],
       ~r/times and values must be equally long, got 2 times and 1 values/},
      {[[1, 2], [1.0, 2.0], 0, []], ~r/width must be a positive integer, got: 0/},
      {[[1, 2], [1.0, 2.0], -1, []], ~r/width must be a non-negative integer, got: -1/},
      {[[1, 2], [1.0, 2.0], 1.5, []], ~r/width must be a non-negative integer, got: 1.5/},
      {[[1, 2], [1.0, 2.0], 10, [method: :bogus]], ~r/method must be :m4 or :lttb, got: :bogus/},
      {[[1, 2], [1.0, 2.0], 10, [from: 5, to: 1]], ~r/from <= to, got from 5 and to 1/},
      {[[1, 2], [1.0, 2.0], 10, [from: 1.5]], ~r/from must be an integer time or nil, got: 1.5/},
      {[[1.0, 2.0], [1.0, 2.0], 10, []], ~r/times must be :i64 integers/},
      {[[1, 2], [1.0, :x], 10, []], ~r/at index 1, got: :x/},
      {[[1, 2], [1.0, 2.0], 10, [metod: :m4]], ~r/unknown keys \[:metod\]/}
    ]

    for {[times, values, width, opts], message} <- cases do
      assert_raise ArgumentError, message, fn ->
        Analytics.downsample(times, values, width, opts)
      end
    end
  end
end
