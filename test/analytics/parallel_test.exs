defmodule Analytics.ParallelTest do
  use ExUnit.Case, async: true
  require Analytics
  import Analytics.Approx
  alias Analytics.{Placement, Series}

  @reducers [:sum, :count, :min, :max, :mean, :variance, :argmin, :argmax, :approx_n_distinct]

  defp random_series(n, seed) do
    :rand.seed(:exsss, {seed, 1, 2})
    Series.from_list(for(_ <- 1..n, do: :rand.uniform() * 100.0))
  end

  test "split reductions equal the serial answer, with global positions" do
    series = random_series(2_100_000, 1)
    serial = Analytics.reduce(series, @reducers, parallel: false)
    split = Analytics.reduce(series, @reducers, parallel: true)
    auto = Analytics.reduce(series, @reducers)

    for reducer <- @reducers do
      assert_close(split[reducer], serial[reducer], reducer, 1.0e-9)
      assert_close(auto[reducer], serial[reducer], reducer, 1.0e-9)
    end
  end

  test "parallel: true really splits: one slice per dirty CPU scheduler, each reduced on a dirty scheduler" do
    series = Series.from_binary(:binary.copy(<<0.5::float-native-64>>, 2_000_000), :f64)
    slices = :erlang.system_info(:dirty_cpu_schedulers_online)

    # Each traced process that reduced on a dirty scheduler: the serial call
    # is one (the caller), the split one is one per slice (none is the caller).
    {serial, [{caller, :reduce}]} =
      Placement.run(fn -> Analytics.reduce(series, :sum, parallel: false) end)

    assert serial == 1_000_000.0
    assert is_pid(caller)

    {split, dirty} =
      Placement.run(fn -> {self(), Analytics.reduce(series, :sum, parallel: true)} end)

    {caller, 1_000_000.0} = split
    reducers = for {pid, :reduce} <- dirty, do: pid
    assert length(Enum.uniq(reducers)) == slices
    refute caller in reducers
  end

  test "map: and where: split too, positions counted in input rows" do
    series = random_series(300_000, 2)
    opts = [map: Analytics.expr(x * 2), where: Analytics.expr(x > 50)]
    serial = Analytics.reduce(series, [:count, :sum, :argmax, :argmin], [parallel: false] ++ opts)
    split = Analytics.reduce(series, [:count, :sum, :argmax, :argmin], [parallel: true] ++ opts)
    assert split.count == serial.count
    assert split.argmax == serial.argmax
    assert split.argmin == serial.argmin
    assert_close(split.sum, serial.sum, :sum)
  end

  test "a map of series splits column-wise" do
    x = random_series(100_000, 3)
    y = random_series(100_000, 4)
    opts = [map: Analytics.expr(x - y), where: Analytics.expr(y < 30)]
    serial = Analytics.reduce(%{x: x, y: y}, :mean, opts)
    assert_close(Analytics.reduce(%{x: x, y: y}, :mean, [parallel: true] ++ opts), serial, :mean)
  end

  test "errors in a slice reach the caller as the serial call would raise them" do
    big = Series.from_list(List.duplicate(9_223_372_036_854_775_807, 10), :i64)

    assert_raise ArgumentError, ~r/overflows 128 bits/, fn ->
      Analytics.reduce(big, :product, parallel: true)
    end
  end

  test "parallel: true refuses what it cannot split; bad values are named" do
    assert_raise ArgumentError,
                 ~r/:median cannot be merged exactly .*cannot be split \(parallel: true\)/,
                 fn ->
                   Analytics.reduce(random_series(10, 5), :median, parallel: true)
                 end

    # A misspelt option is named, with every valid one.
    assert_raise ArgumentError,
                 ~r/unknown keys \[:paralel\].*allowed keys are: \[:map, :where, :parallel\]/,
                 fn ->
                   Analytics.reduce(random_series(10, 5), :sum, paralel: true)
                 end

    assert_raise ArgumentError, ~r/parallel: true needs a Series/, fn ->
      Analytics.reduce([1.0, 2.0], :sum, parallel: true)
    end

    assert_raise ArgumentError, ~r/parallel: must be :auto, true or false, got: :yes/, fn ->
      Analytics.reduce(random_series(10, 5), :sum, parallel: :yes)
    end

    # :auto quietly stays serial for reducers that cannot merge.
    assert is_float(Analytics.reduce(random_series(2_000_000, 6), :median))
  end

  test ":product follows one rule on every path: exact, and past 128 bits an error" do
    big = Series.from_list([2 ** 62, 2 ** 62, 2 ** 62, 2 ** 62], :i64)
    message = ~r/product of the :i64 values overflows 128 bits/

    for parallel <- [false, true] do
      assert_raise ArgumentError, message, fn ->
        Analytics.reduce(big, :product, parallel: parallel)
      end
    end

    partials = for i <- 0..3, do: Analytics.partial(Series.slice(big, i, 1), [:product])

    assert_raise ArgumentError, message, fn ->
      partials |> Analytics.merge() |> Analytics.finalize()
    end

    # A zero settles the product even after an overflow, on every path.
    zeroed = Series.concat([big, Series.from_list([0], :i64)])
    assert Analytics.reduce(zeroed, :product, parallel: false) == 0
    assert Analytics.reduce(zeroed, :product, parallel: true) == 0

    # Exact up to the edge of the range: -2^127 fits, 2^127 does not.
    edge = Series.from_list([-(2 ** 63), 2 ** 62, 2, 2], :i64)
    assert Analytics.reduce(edge, :product, parallel: true) == -(2 ** 127)

    assert_raise ArgumentError, message, fn ->
      Analytics.reduce(Series.from_list([-(2 ** 63), -(2 ** 63), 2, 1], :i64), :product,
        parallel: true
      )
    end
  end
end
