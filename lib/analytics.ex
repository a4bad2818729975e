defmodule Analytics do
  @moduledoc """
  Fast reductions over numeric columns, in native code that never blocks a
  scheduler and never crashes the VM.

  Input is an `Analytics.Series` or a plain list of numbers. Work small
  enough to finish in well under a millisecond runs on the calling
  scheduler; anything larger moves to a dirty CPU scheduler. The kernels use
  SIMD (baseline SSE2, AVX2 or AVX-512, picked at run time; see `info/0`).

  ## Examples

      iex> Analytics.reduce([1, 2, 3, 4], :sum)
      10
      iex> Analytics.reduce([1.0, 2.0, 3.0, 4.0], [:mean, :max, :median])
      %{max: 4.0, mean: 2.5, median: 2.5}
      iex> Analytics.Series.from_list([2.0, 4.0, 4.0, 5.0]) |> Analytics.reduce({:variance, ddof: 0})
      1.1875
  """

  alias Analytics.{Native, Parallel, Query, Reducers, Series, State}

  @typedoc """
  A reducer. Named as in Explorer; `:median` is `{:quantile, 0.5}`, and
  `:variance` / `:standard_deviation` take `ddof:` (default 1).
  """
  @type reducer ::
          :sum
          | :count
          | :min
          | :max
          | :mean
          | :variance
          | {:variance, [ddof: non_neg_integer()]}
          | :standard_deviation
          | {:standard_deviation, [ddof: non_neg_integer()]}
          | :product
          | :argmin
          | :argmax
          | :median
          | {:quantile, number()}
          | :n_distinct
          | :approx_n_distinct
          | {:approx_quantile, number()}

  @typedoc "What can be reduced: a series, or a list of numbers."
  @type input :: Series.t() | [Series.value()]

  @typedoc "A reduced value; `nil` where the reducer has no answer (e.g. min of nothing)."
  @type result :: Series.value() | nil

  @doc """
  Reduces `input` with one reducer, or with a list of reducers in one pass.

  A list of reducers returns a map from each reducer, as given, to its value.

  A list of integers only is reduced as `:i64`, exactly: sums never wrap and
  may return a bignum; an integer outside the i64 range raises
  `ArgumentError`. A list with any float (or `:nan`, `:infinity`,
  `:neg_infinity`) is reduced as `:f64`, and then every integer, however
  large, becomes the nearest float (as in `Analytics.Series.from_list/2`).

  ## Semantics

    * Empty input: `:sum` is `0` (`0.0` for `:f64`), `:count` is `0`,
      `:product` is `1` (`1.0`), `:n_distinct` and `:approx_n_distinct` are
      `0` (a count of nothing); every other reducer `nil`.
    * `:variance` and `:standard_deviation` are `nil` when `count <= ddof`;
      they are computed with a numerically stable method.
    * NaN propagates through `:sum`, `:mean`, `:variance`, `:min`, `:max`,
      `:product` and quantiles; `:argmin`/`:argmax` give the first NaN's index.
    * `{:quantile, q}` interpolates linearly between the closest ranks
      (NumPy's default) and always returns a float. The interpolation
      (C++20's `std::lerp`) cannot overflow for finite inputs, is exact at
      the ranks and monotonic in `q`: the median of `[1.0e308, -1.0e308]`
      is `0.0`, where NumPy gives infinity.
    * `:n_distinct` counts `-0.0` and `0.0` as one value, and all NaNs as one.
    * The `:i64` `:product` is exact; when its exact value lies beyond the
      signed 128-bit range it raises `ArgumentError` (use an `:f64` series
      for such magnitudes), unless a zero settles it to `0`. The rule is the
      same for `parallel: true` and for `merge/1` + `finalize/1`.
    * `:approx_n_distinct` estimates with a HyperLogLog (2^14 registers,
      about 0.8% standard error); `{:approx_quantile, q}` with a DDSketch
      (within 1% relative error of the value at rank `floor(q * (n - 1))`).
      Both merge exactly through `partial/2`, so they suit parallel and
      distributed work where `:n_distinct` and quantiles cannot go.

  ## Examples

      iex> Analytics.reduce([], [:sum, :count, :min])
      %{count: 0, min: nil, sum: 0}
      iex> Analytics.reduce([9_223_372_036_854_775_807, 1], :sum)
      9_223_372_036_854_775_808
      iex> Analytics.reduce([1.0, :nan], :max)
      :nan
      iex> Analytics.reduce([3, 1, 2], [:argmin, {:quantile, 0.25}])
      %{:argmin => 1, {:quantile, 0.25} => 1.5}
  """
  @spec reduce(input(), reducer()) :: result()
  @spec reduce(input(), [reducer(), ...]) :: %{reducer() => result()}
  def reduce(input, reducers), do: reduce(input, reducers, [])

  @doc """
  Reduces with a map and a filter fused into the same single pass.

  As in SQL, `:where` keeps the input rows for which its predicate holds, and
  `:map` computes the value that is reduced. Both are `Analytics.Expr`s built
  with `expr/1`; their variables name the input's columns, so `input` may be
  a map of equally long columns (a single Series or list binds to whatever
  one variable the expressions use). No intermediate column is built: each
  block of about a thousand rows is filtered, mapped and fed to every
  reducer while it is in cache.

  Mapped values are `:f64`. Without `:map`, the reduced values keep the
  column's dtype, so a filtered `:i64` sum stays exact. Positions
  (`:argmin`, `:argmax`) are rows of the input.

  ## Options

    * `:map` - an `Analytics.Expr` computing the value to reduce; needed when
      `input` has several columns. Integer arithmetic over `:i64` columns
      stays `:i64` and exact: an overflow raises `ArgumentError` naming the
      operator and the row, also on a row that `:where` drops (the map is
      computed for every row).
    * `:where` - an `Analytics.Expr` predicate selecting rows; its
      comparisons are exact between any two numbers (an `:i64` nanosecond
      timestamp beyond 2^53 against another, or against a float)
    * `:parallel` - `:auto` (the default) splits a Series of at least
      #{Analytics.Parallel.auto_rows()} rows into one slice per dirty CPU
      scheduler when every reducer merges (see `partial/3`), reduces the
      slices concurrently and merges their states; `true` splits whenever
      the input is Series (raising if a reducer cannot merge); `false` never

  ## Examples

      iex> require Analytics
      iex> Analytics.reduce([1.0, 2.0, 3.0, 4.0], [:sum, :count],
      ...>   map: Analytics.expr(x * 10), where: Analytics.expr(x > 1.5))
      %{count: 3, sum: 90.0}
      iex> latency = Analytics.Series.from_list([12.0, 250.0, 31.0])
      iex> status = Analytics.Series.from_list([200, 500, 200])
      iex> Analytics.reduce(%{latency: latency, status: status}, :mean,
      ...>   map: Analytics.expr(latency), where: Analytics.expr(status == 200))
      21.5
  """
  @spec reduce(input() | %{atom() => input()}, reducer() | [reducer(), ...], keyword()) ::
          result() | %{reducer() => result()}
  def reduce(input, reducers, opts) do
    Keyword.validate!(opts, [:map, :where, :parallel])
    {parallel, opts} = Keyword.pop(opts, :parallel, :auto)
    specs = Reducers.normalize_all(reducers)

    if Parallel.split?(input, reducers, specs, parallel) do
      Parallel.reduce(input, reducers, opts)
    else
      values = native_reduce(input, specs, opts)
      if is_list(reducers), do: reducers |> Enum.zip(values) |> Map.new(), else: hd(values)
    end
  end

  defp native_reduce(input, specs, opts) do
    opts = Keyword.validate!(opts, [:map, :where])

    case {opts[:map], opts[:where]} do
      {nil, nil} when not is_map(input) or is_struct(input, Series) ->
        Native.reduce(input, specs)

      {map, where} ->
        {columns, names} = Query.columns(input, map, where)
        Native.fused_reduce(columns, Query.tree(map, names), Query.tree(where, names), specs)
    end
  end

  @doc """
  Builds an `Analytics.Expr` from Elixir code, at compile time.

  See `Analytics.Expr` for what an expression may contain. Unsupported code
  is a compile-time error naming it.

  ## Examples

      iex> require Analytics
      iex> Analytics.expr(x > 0.5 and not is_nan(x)).variables
      [:x]
      iex> threshold = 2
      iex> Analytics.map([1, 2, 3], Analytics.expr(max(x, ^threshold))) |> Analytics.Series.to_list()
      [2, 2, 3]
  """
  defmacro expr(code), do: Analytics.Expr.build(code, __CALLER__)

  @doc """
  Computes an expression over every row, giving a new Series.

  `input` is a Series or list (bound to the expression's one variable), or a
  map of equally long columns named by its variables.

  The result is `:i64` when the expression is integer arithmetic on `:i64`
  columns and integer constants (exact; an overflow raises `ArgumentError`
  naming the row), and `:f64` otherwise: see "Types" in `Analytics.Expr`.

  ## Examples

      iex> require Analytics
      iex> x = Analytics.Series.from_list([1.0, 4.0, 9.0])
      iex> Analytics.map(x, Analytics.expr(sqrt(x) + 1)) |> Analytics.Series.to_list()
      [2.0, 3.0, 4.0]
      iex> Analytics.map(%{a: [1, 2], b: [10, 20]}, Analytics.expr(a * b)) |> Analytics.Series.to_list()
      [10, 40]
      iex> Analytics.map(%{a: [1, 2], b: [10, 20]}, Analytics.expr(a / b)) |> Analytics.Series.to_list()
      [0.1, 0.1]
      iex> Analytics.map([9_223_372_036_854_775_807], Analytics.expr(x + 1))
      ** (ArgumentError) integer overflow in + at row 0: the result leaves the signed 64-bit range (cast a column to :f64 for float arithmetic)
  """
  @spec map(input() | %{atom() => input()}, Analytics.Expr.t()) :: Series.t()
  def map(input, %Analytics.Expr{} = expression) do
    {columns, names} = Query.columns(input, expression, nil)
    Native.map(columns, Query.tree(expression, names))
  end

  def map(_input, other) do
    raise ArgumentError,
          "map/2 needs an %Analytics.Expr{} built with Analytics.expr/1, got: #{inspect(other)}"
  end

  @doc """
  Keeps the rows for which a predicate holds, as new columns of the same
  dtypes (Explorer's `filter`, with an `Analytics.Expr` predicate).

  `input` is a Series or list, giving a Series, or a map of equally long
  columns, giving a map with every column filtered; the predicate's
  variables name columns of the map. Runs on a dirty CPU scheduler when the
  input is large.

  ## Examples

      iex> require Analytics
      iex> s = Analytics.Series.from_list([5, 12, 7, 30], :i64)
      iex> Analytics.filter(s, Analytics.expr(x > 6)) |> Analytics.Series.to_list()
      [12, 7, 30]
      iex> limit = 10
      iex> %{ts: ts, v: v} = Analytics.filter(%{ts: [1, 2, 3], v: [9.5, 10.5, 11.0]}, Analytics.expr(v > ^limit))
      iex> {Analytics.Series.to_list(ts), Analytics.Series.to_list(v)}
      {[2, 3], [10.5, 11.0]}
  """
  @spec filter(input(), Analytics.Expr.t()) :: Series.t()
  @spec filter(%{atom() => input()}, Analytics.Expr.t()) :: %{atom() => Series.t()}
  def filter(input, %Analytics.Expr{} = predicate) when is_map(input) and not is_struct(input) do
    names = input |> Map.keys() |> Enum.sort()
    tree = Query.tree(predicate, names)
    columns = Native.filter(Enum.map(names, &Map.fetch!(input, &1)), tree)
    names |> Enum.zip(columns) |> Map.new()
  end

  def filter(input, %Analytics.Expr{} = predicate) do
    {columns, names} = Query.columns(input, predicate, nil)
    [series] = Native.filter(columns, Query.tree(predicate, names))
    series
  end

  def filter(_input, other) do
    raise ArgumentError,
          "filter/2 needs an %Analytics.Expr{} predicate built with Analytics.expr/1, got: #{inspect(other)}"
  end

  @doc """
  Reduces the values of each distinct key: hash aggregation over `:i64` keys.

  `keys` and `values` are equally long Series or lists; `keys` must be
  integers. Returns columns sorted by key: `:keys`, and one Series per
  reducer (keyed by the reducer as given). Only keys that occur get a row. A
  value a group cannot have, such as the variance of a single value, is NaN.

  Column dtypes follow `reduce/2`: with `:i64` values, sums, extremes and
  products stay `:i64` (raising `ArgumentError` if a group's exact value
  leaves 64 bits); means, spreads and quantiles are `:f64`; counts and
  positions (rows of the input) are `:i64`. Every exact reducer of
  `reduce/2` is supported; quantiles and `:n_distinct` gather each group's
  values. The approximate reducers (`:approx_n_distinct`,
  `{:approx_quantile, q}`) raise `ArgumentError`: a sketch per group would
  cost more than the exact answer.

  ## Examples

      iex> %{keys: k, sum: s, count: c} = Analytics.group_reduce([2, 1, 2, 2], [1.0, 5.0, 2.0, 3.0], [:sum, :count])
      iex> {Analytics.Series.to_list(k), Analytics.Series.to_list(s), Analytics.Series.to_list(c)}
      {[1, 2], [5.0, 6.0], [1, 3]}
  """
  @spec group_reduce(input(), input(), reducer() | [reducer(), ...]) :: %{
          required(:keys) => Series.t(),
          optional(reducer()) => Series.t()
        }
  def group_reduce(keys, values, reducers) do
    [keys | columns] = Native.group_reduce(keys, values, Reducers.normalize_all(reducers))
    reducers |> listed() |> Enum.zip(columns) |> Map.new() |> Map.put(:keys, keys)
  end

  @doc """
  Reduces values by time bucket: `group_reduce/3` keyed by each timestamp's
  bucket start, `floor(t / width) * width`.

  `timestamps` are `:i64` in any unit and need not be sorted; `width` is a
  positive integer in the same unit. Returns `:buckets` (the starts, sorted)
  and one Series per reducer; empty buckets get no row.

  ## Examples

      iex> %{buckets: b, mean: m} = Analytics.bucket_reduce([125, 61, 0, 59, -1], [1.0, 2.0, 3.0, 5.0, 7.0], 60, :mean)
      iex> {Analytics.Series.to_list(b), Analytics.Series.to_list(m)}
      {[-60, 0, 60, 120], [7.0, 4.0, 2.0, 1.0]}
  """
  @spec bucket_reduce(input(), input(), pos_integer(), reducer() | [reducer(), ...]) :: %{
          required(:buckets) => Series.t(),
          optional(reducer()) => Series.t()
        }
  def bucket_reduce(timestamps, values, width, reducers) do
    [buckets | columns] =
      Native.bucket_reduce(timestamps, values, width, Reducers.normalize_all(reducers))

    reducers |> listed() |> Enum.zip(columns) |> Map.new() |> Map.put(:buckets, buckets)
  end

  @doc """
  Downsamples a time series for a line chart `width` pixels wide.

  `times` are `:i64`, sorted ascending, in any unit; `values` are numbers
  of either dtype, as many as `times`. Returns `%{times: Series(:i64),
  values: Series(:f64)}`: the chosen points, in time order. NaN values and
  points outside the range are left out.

  Options:

    * `:method` - `:m4` (the default) or `:lttb`.
      `:m4` (Jugel et al., VLDB 2014) cuts the range into `width` equal time
      slices, one per pixel column, and keeps each slice's first, last,
      lowest and highest point: at most `4 * width` points, and a line
      drawn through them `width` pixels wide covers exactly the pixels of a
      line through every point. `:lttb` (largest triangle, three buckets)
      keeps `width` points chosen to preserve the shape, for when the
      number of points matters more than exactness.
    * `:from`, `:to` - the time range, inclusive (default: the first and
      the last time).

  Runs on a dirty CPU scheduler when the input is large.

  ## Examples

  Two slices, 0..3 and 4..7: the point at time 6 is neither the first, the
  last, the lowest nor the highest of its slice.

      iex> times = [0, 1, 2, 3, 4, 5, 6, 7]
      iex> values = [5.0, 1.0, 9.0, 4.0, 2.0, 8.0, 3.0, 6.0]
      iex> %{times: t, values: v} = Analytics.downsample(times, values, 2)
      iex> {Analytics.Series.to_list(t), Analytics.Series.to_list(v)}
      {[0, 1, 2, 3, 4, 5, 7], [5.0, 1.0, 9.0, 4.0, 2.0, 8.0, 6.0]}
      iex> %{times: t} = Analytics.downsample(times, values, 1, from: 1, to: 5)
      iex> Analytics.Series.to_list(t)
      [1, 2, 5]
      iex> %{times: t} = Analytics.downsample(times, values, 3, method: :lttb)
      iex> Analytics.Series.to_list(t)
      [0, 1, 7]
  """
  @spec downsample(input(), input(), pos_integer(), keyword()) :: %{
          times: Series.t(),
          values: Series.t()
        }
  def downsample(times, values, width, opts \\ []) do
    opts = Keyword.validate!(opts, method: :m4, from: nil, to: nil)

    [times, values] =
      Native.downsample(times, values, opts[:from], opts[:to], width, opts[:method])

    %{times: times, values: values}
  end

  defp listed(reducers) when is_list(reducers), do: reducers
  defp listed(reducer), do: [reducer]

  @doc """
  Reduces `input` to a mergeable `Analytics.State` instead of values.

  States of consecutive pieces of one input, merged in order with `merge/1`
  and finalized with `finalize/1`, give what `reduce/2` gives on the whole
  input (within float rounding); positions (`:argmin`, `:argmax`) stay
  global. Every reducer but the exact order statistics merges: `:sum`,
  `:count`, `:min`, `:max`, `:mean`, `:variance`, `:standard_deviation`,
  `:product`, `:argmin`, `:argmax`, and the sketches `:approx_n_distinct`
  and `{:approx_quantile, q}`. `:median`, `{:quantile, q}` and `:n_distinct`
  raise `ArgumentError`: use the approximate reducers instead.

  ## Examples

      iex> a = Analytics.partial([1.0, 2.0], [:mean, :max])
      iex> b = Analytics.partial([3.0, 6.0], [:mean, :max])
      iex> Analytics.merge([a, b]) |> Analytics.finalize()
      %{max: 6.0, mean: 3.0}
  """
  @spec partial(input() | %{atom() => input()}, reducer() | [reducer(), ...], keyword()) ::
          State.t()
  def partial(input, reducers, opts \\ []) do
    specs = Reducers.normalize_all(reducers)
    Enum.each(Enum.zip(List.wrap(reducers), specs), &Reducers.mergeable!/1)

    needs = Reducers.state_fields(specs)
    values = native_reduce(input, needs, opts) |> then(&Enum.zip(needs, &1)) |> Map.new()
    count = values.count

    %State{
      dtype: if(is_integer(values.sum), do: :i64, else: :f64),
      reducers: reducers,
      rows: Query.rows(input),
      count: count,
      sum: values.sum,
      m2: m2(Map.get(values, {:variance, 0}, 0.0), count),
      min: Map.get(values, :min),
      max: Map.get(values, :max),
      argmin: Map.get(values, :argmin),
      argmax: Map.get(values, :argmax),
      product: Map.get(values, :product, 1),
      hll: Map.get(values, :hll_state),
      dd: Map.get(values, :dd_state)
    }
  end

  defp m2(nil, _count), do: 0.0
  defp m2(variance, count) when is_number(variance), do: variance * count
  defp m2(non_finite, _count), do: non_finite

  @doc """
  Merges states of consecutive pieces of one input, in order.

  All states must come from `partial/2` with the same reducers and dtype.
  """
  @spec merge([State.t(), ...]) :: State.t()
  def merge([%State{} = first | _] = states) do
    # An empty piece has no dtype of its own (an empty list reads as :i64).
    reference = Enum.find(states, first, &match?(%State{count: count} when count > 0, &1))
    Enum.each(states, &same_kind!(&1, reference))
    Enum.reduce(tl(states), first, &State.merge_pair(&2, &1))
  end

  def merge(other) do
    raise ArgumentError, "expected a non-empty list of %Analytics.State{}, got: #{inspect(other)}"
  end

  @doc """
  Turns a state into what `reduce/2` returns for its reducers: one value, or
  a map when the reducers were a list.
  """
  @spec finalize(State.t()) :: result() | %{reducer() => result()}
  def finalize(%State{} = state) do
    case State.check!(state).reducers do
      reducers when is_list(reducers) ->
        Map.new(reducers, &{&1, State.finalize_one(state, Reducers.finalizer(&1))})

      reducer ->
        State.finalize_one(state, Reducers.finalizer(reducer))
    end
  end

  def finalize(other),
    do: raise(ArgumentError, "expected an %Analytics.State{}, got: #{inspect(other)}")

  defp same_kind!(%State{} = state, first) do
    State.check!(state)

    cond do
      state.reducers != first.reducers or (state.count > 0 and state.dtype != first.dtype) ->
        raise ArgumentError,
              "cannot merge states of #{inspect(state.reducers)} on #{state.dtype} " <>
                "with states of #{inspect(first.reducers)} on #{first.dtype}"

      true ->
        :ok
    end
  end

  defp same_kind!(other, _first) do
    raise ArgumentError,
          "expected a list of %Analytics.State{}, got an element: #{inspect(other)}"
  end

  @doc """
  Reports the native library's configuration.

    * `:simd` - the kernel build in use (`:baseline`, `:avx2` or `:avx512`),
      the widest the CPU supports unless capped by the `ANALYTICS_SIMD`
      environment variable
    * `:simd_supported` - every build this CPU can run
    * `:normal_scheduler_budget_ns` - estimated work above this runs on a
      dirty CPU scheduler
    * `:dirty_cpu_schedulers` - how many the VM has (`+SDcpu`)

  ## Examples

      iex> Analytics.info().simd in Analytics.info().simd_supported
      true
  """
  @spec info() :: %{
          simd: :baseline | :avx2 | :avx512,
          simd_supported: [:baseline | :avx2 | :avx512],
          normal_scheduler_budget_ns: pos_integer(),
          dirty_cpu_schedulers: non_neg_integer()
        }
  def info do
    Map.put(Native.info(), :dirty_cpu_schedulers, :erlang.system_info(:dirty_cpu_schedulers))
  end

  @doc """
  Counts what the native library holds right now, for leak checks and
  dashboards (as `:erlang.memory/0` does for the VM).

    * `:column_buffers`, `:column_bytes` - native column buffers alive
      (every Series shares its parent's buffer; a buffer goes when the last
      term referring to it is garbage collected)
    * `:redis_engines` - `Analytics.Redis` engines alive (a stopped engine
      goes once its IO thread has finished)
    * `:redis_requests` - requests accepted and not yet answered or dropped
    * `:retained_bytes` - freed buffers of 64 KiB and more (columns, and
      temporaries such as a quantile's copy) kept for reuse, at most 64 MiB:
      first touch of fresh memory costs far more than reusing warm memory.
      `release_memory/0` gives them back

  ## Examples

      iex> %{column_buffers: buffers, redis_requests: requests} = Analytics.native_counters()
      iex> buffers >= 0 and requests >= 0
      true
  """
  @spec native_counters() :: %{
          column_buffers: non_neg_integer(),
          column_bytes: non_neg_integer(),
          redis_engines: non_neg_integer(),
          redis_requests: non_neg_integer(),
          retained_bytes: non_neg_integer()
        }
  def native_counters, do: Native.native_counters()

  @doc """
  Frees the buffers the native library keeps for reuse (`:retained_bytes` in
  `native_counters/0`) and returns how many bytes it freed. Live series are
  untouched; later calls fill the pool again as columns are freed. Unloading
  the library frees them too.

  ## Examples

      iex> freed = Analytics.release_memory()
      iex> freed >= 0 and Analytics.native_counters().retained_bytes == 0
      true
  """
  @spec release_memory() :: non_neg_integer()
  def release_memory, do: Native.release_memory()
end
