defmodule Analytics.State do
  @moduledoc """
  A mergeable partial reduction: plain data, portable across nodes and
  through `:erlang.term_to_binary/1`.

  Made by `Analytics.partial/2`, combined by `Analytics.merge/1` and turned
  into the answer `Analytics.reduce/2` would give by `Analytics.finalize/1`.
  A state keeps only a few numbers per input (count, sum, extremes and their
  positions, the sum of squared deviations, product), so merging is cheap and
  the variance is merged with Chan's formula, which stays accurate.
  Approximate reducers keep their sketch as a versioned, portable binary: a
  HyperLogLog of 2^14 registers (16 KiB) for `:approx_n_distinct`, and a
  DDSketch with 1% relative accuracy (a few KiB) for `{:approx_quantile, q}`.

  Non-finite floats are kept as `:nan`, `:infinity` and `:neg_infinity`,
  with IEEE 754 rules when states merge.
  """

  @version 1

  @enforce_keys [
    :dtype,
    :reducers,
    :rows,
    :count,
    :sum,
    :m2,
    :min,
    :max,
    :argmin,
    :argmax,
    :product
  ]
  defstruct [version: @version] ++ @enforce_keys ++ [hll: nil, dd: nil]

  @typedoc "A float, or one of the atoms standing for a non-finite float."
  @type extended :: number() | :nan | :infinity | :neg_infinity

  @type t :: %__MODULE__{
          version: pos_integer(),
          dtype: Analytics.Series.dtype(),
          reducers: [Analytics.reducer()],
          rows: non_neg_integer(),
          count: non_neg_integer(),
          sum: extended(),
          m2: extended(),
          min: extended() | nil,
          max: extended() | nil,
          argmin: non_neg_integer() | nil,
          argmax: non_neg_integer() | nil,
          product: extended(),
          hll: binary() | nil,
          dd: binary() | nil
        }

  @doc false
  def version, do: @version

  @extended_atoms [:nan, :infinity, :neg_infinity]

  @int128_overflow Bitwise.bsl(1, 127)
  @int128 -@int128_overflow..(@int128_overflow - 1)
  @product_overflow "product of the :i64 values overflows 128 bits; reduce an :f64 series instead"

  @doc false
  # A state may come back from storage or another node: every field is
  # checked against the type above before it is used (the sketches, :hll
  # and :dd, by the NIF as it decodes them).
  def check!(%__MODULE__{} = state) do
    Analytics.Reducers.normalize_all(state.reducers)

    checks = [
      version: is_integer(state.version),
      dtype: state.dtype in [:f64, :i64],
      rows: non_negative?(state.rows),
      count: non_negative?(state.count),
      sum: extended?(state.sum),
      m2: extended?(state.m2),
      product: extended?(state.product),
      min: state.min == nil or extended?(state.min),
      max: state.max == nil or extended?(state.max),
      argmin: state.argmin == nil or non_negative?(state.argmin),
      argmax: state.argmax == nil or non_negative?(state.argmax)
    ]

    case Enum.find(checks, fn {_field, ok} -> not ok end) do
      nil ->
        check_consistent!(state)

      {field, _} ->
        raise ArgumentError,
              "not a valid %Analytics.State{}: #{field} is #{inspect(Map.fetch!(state, field))}"
    end
  end

  def check!(other),
    do: raise(ArgumentError, "expected an %Analytics.State{}, got: #{inspect(other)}")

  # Fields that are each well-formed but cannot belong to one state.
  defp check_consistent!(state) do
    cond do
      state.version != @version ->
        raise ArgumentError,
              "cannot use a version #{state.version} state (this library reads and writes version #{@version})"

      state.count > state.rows ->
        raise ArgumentError,
              "not a valid %Analytics.State{}: count #{state.count} is more than its #{state.rows} rows"

      Enum.any?([state.argmin, state.argmax], &(&1 != nil and &1 >= state.rows)) ->
        raise ArgumentError,
              "not a valid %Analytics.State{}: a position (argmin #{inspect(state.argmin)}, " <>
                "argmax #{inspect(state.argmax)}) lies past its #{state.rows} rows"

      true ->
        state
    end
  end

  defp non_negative?(value), do: is_integer(value) and value >= 0
  defp extended?(value), do: is_number(value) or value in @extended_atoms

  @doc false
  # Consecutive pieces, in order: positions of the later piece shift by the
  # input rows of the earlier one (more than its count under a where:).
  def merge_pair(%__MODULE__{} = a, %__MODULE__{} = b) do
    {min, argmin} = pick(a.min, a.argmin, b.min, shift(b.argmin, a.rows), &below?/2)
    {max, argmax} = pick(a.max, a.argmax, b.max, shift(b.argmax, a.rows), &above?/2)

    %__MODULE__{
      a
      | dtype: if(a.count == 0, do: b.dtype, else: a.dtype),
        rows: a.rows + b.rows,
        count: a.count + b.count,
        sum: add(a.sum, b.sum),
        m2: merge_m2(a, b),
        min: min,
        max: max,
        argmin: argmin,
        argmax: argmax,
        product: product(a.product, b.product),
        hll: merge_sketch(a.hll, b.hll),
        dd: merge_sketch(a.dd, b.dd)
    }
  end

  defp merge_sketch(nil, nil), do: nil
  defp merge_sketch(a, b), do: Analytics.Native.sketch_merge(a, b)

  @doc false
  def finalize_one(%__MODULE__{count: 0} = s, reducer) when reducer in [:sum, :product],
    do: Map.fetch!(s, reducer)

  def finalize_one(%__MODULE__{count: n}, :count), do: n

  def finalize_one(%__MODULE__{hll: hll}, :approx_n_distinct),
    do: Analytics.Native.sketch_estimate(hll, :approx_n_distinct)

  def finalize_one(%__MODULE__{dd: dd}, {:approx_quantile, _} = q),
    do: Analytics.Native.sketch_estimate(dd, q)

  def finalize_one(%__MODULE__{count: 0}, _reducer), do: nil

  def finalize_one(%__MODULE__{product: p}, :product) when is_integer(p) and p not in @int128,
    do: raise(ArgumentError, @product_overflow)

  def finalize_one(%__MODULE__{} = s, reducer)
      when reducer in [:sum, :product, :min, :max, :argmin, :argmax],
      do: Map.fetch!(s, reducer)

  def finalize_one(%__MODULE__{} = s, :mean), do: divide(s.sum, s.count)
  def finalize_one(%__MODULE__{} = s, {:variance, ddof}), do: spread(s, ddof, & &1)
  def finalize_one(%__MODULE__{} = s, {:standard_deviation, ddof}), do: spread(s, ddof, &root/1)

  defp spread(%__MODULE__{count: n}, ddof, _f) when n <= ddof, do: nil
  defp spread(%__MODULE__{} = s, ddof, f), do: s.m2 |> divide(s.count - ddof) |> f.()

  defp root(x) when is_number(x), do: :math.sqrt(x)
  defp root(:infinity), do: :infinity
  defp root(_), do: :nan

  defp shift(nil, _), do: nil
  defp shift(index, offset), do: index + offset

  # The extreme of two pieces; NaN wins (the first one), ties keep the first.
  defp pick(nil, _, b, ib, _), do: {b, ib}
  defp pick(a, ia, nil, _, _), do: {a, ia}
  defp pick(:nan, ia, _, _, _), do: {:nan, ia}
  defp pick(_, _, :nan, ib, _), do: {:nan, ib}
  defp pick(a, ia, b, ib, better?), do: if(better?.(b, a), do: {b, ib}, else: {a, ia})

  defp rank(:neg_infinity), do: {0, 0}
  defp rank(:infinity), do: {2, 0}
  defp rank(x), do: {1, x}
  defp below?(a, b), do: rank(a) < rank(b)
  defp above?(a, b), do: rank(a) > rank(b)

  # Chan et al.: M2 = M2a + M2b + delta^2 * na * nb / n, with delta the
  # difference of the pieces' means.
  defp merge_m2(%{count: 0}, b), do: b.m2
  defp merge_m2(a, %{count: 0}), do: a.m2

  defp merge_m2(a, b) do
    with ma when is_number(ma) <- divide(a.sum, a.count),
         mb when is_number(mb) <- divide(b.sum, b.count),
         true <- is_number(a.m2) and is_number(b.m2) do
      delta = mb - ma
      a.m2 + b.m2 + delta * delta * a.count * b.count / (a.count + b.count)
    else
      # A NaN or an infinity anywhere: the variance is NaN, as in one pass.
      _ -> :nan
    end
  end

  @doc false
  def add(:nan, _), do: :nan
  def add(_, :nan), do: :nan
  def add(:infinity, :neg_infinity), do: :nan
  def add(:neg_infinity, :infinity), do: :nan
  def add(inf, _) when inf in [:infinity, :neg_infinity], do: inf
  def add(_, inf) when inf in [:infinity, :neg_infinity], do: inf
  def add(a, b), do: a + b

  # The :i64 product is exact and must fit in 128 bits, as in one native
  # pass; a zero settles it even after an overflow. Past the range only the
  # sign matters, so the merged value stops growing there.
  defp product(a, b) when is_integer(a) and is_integer(b) do
    p = a * b
    if p in @int128, do: p, else: sign(p) * @int128_overflow
  end

  defp product(a, b), do: mul(a, b)

  @doc false
  def mul(:nan, _), do: :nan
  def mul(_, :nan), do: :nan

  def mul(a, b) when is_number(a) and is_number(b) do
    a * b
  rescue
    # A float product beyond the double range overflows to infinity, as in C++.
    ArithmeticError -> if a < 0 != b < 0, do: :neg_infinity, else: :infinity
  end

  def mul(a, b) do
    case sign(a) * sign(b) do
      0 -> :nan
      1 -> :infinity
      -1 -> :neg_infinity
    end
  end

  defp sign(:infinity), do: 1
  defp sign(:neg_infinity), do: -1
  defp sign(x) when x > 0, do: 1
  defp sign(x) when x < 0, do: -1
  defp sign(_), do: 0

  defp divide(x, n) when is_number(x), do: x / n
  defp divide(x, _n), do: x
end
