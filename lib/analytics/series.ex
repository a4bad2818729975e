defmodule Analytics.Series do
  @moduledoc """
  An immutable, typed, native column of numbers.

  A series holds `:f64` (double precision floats) or `:i64` (signed 64-bit
  integers) in one contiguous, 64-byte aligned native buffer. Slices share
  that buffer with their parent, so `slice/3` is O(1) and `to_binary/1` is
  zero-copy. Series are safe to share between processes: the data never
  changes once made.

  Erlang floats cannot be NaN or infinite, so such values cross the boundary
  as the atoms `:nan`, `:infinity` and `:neg_infinity` (as in Explorer).

  Large inputs are converted on a dirty CPU scheduler, so a 10M-element
  `from_list/2` never blocks a normal scheduler.

  ## Examples

      iex> s = Analytics.Series.from_list([1.0, 2.5, :nan])
      iex> Analytics.Series.size(s)
      3
      iex> Analytics.Series.to_list(s)
      [1.0, 2.5, :nan]
  """

  @enforce_keys [:resource, :dtype, :size]
  defstruct [:resource, :dtype, :size]

  @typedoc "The element type of a series."
  @type dtype :: :f64 | :i64

  @typedoc "An element as Elixir sees it."
  @type value :: number() | :nan | :infinity | :neg_infinity

  @type t :: %__MODULE__{resource: reference(), dtype: dtype(), size: non_neg_integer()}

  alias Analytics.Native

  # The fields Elixir code reads; the NIF checks them against the data.
  defguardp well_formed(size, dtype)
            when is_integer(size) and size >= 0 and dtype in [:f64, :i64]

  @i64_range -0x8000000000000000..0x7FFFFFFFFFFFFFFF

  @doc """
  Builds a series from a list of numbers.

  With `:f64` (the default), integers become floats and `:nan`,
  `:infinity` and `:neg_infinity` are accepted. An integer of any size
  becomes the nearest float (ties to even; `:erlang.float/1` is off by one
  unit in the last place for some bignums), and one beyond the float range
  (about 1.8e308) raises `ArgumentError`. With `:i64`, every element must be
  an integer in the signed 64-bit range: a float raises rather than being
  truncated.

  ## Examples

      iex> Analytics.Series.from_list([1, 2, 3]) |> Analytics.Series.to_list()
      [1.0, 2.0, 3.0]
      iex> Analytics.Series.from_list([2 ** 64]) |> Analytics.Series.to_list()
      [1.8446744073709552e19]
      iex> Analytics.Series.from_list([1, 2, 3], :i64) |> Analytics.Series.to_list()
      [1, 2, 3]
      iex> Analytics.Series.from_list([1.5], :i64)
      ** (ArgumentError) cannot store 1.5 at index 0 in an :i64 series (no silent truncation)
  """
  @spec from_list([value()], dtype()) :: t()
  def from_list(list, dtype \\ :f64), do: Native.series_from_list(list, dtype)

  @doc """
  Builds a series from a binary of native-endian packed values (8 bytes each).

  The bytes are copied into an aligned buffer.

  ## Examples

      iex> bin = <<1.5::float-native-64, 2.5::float-native-64>>
      iex> Analytics.Series.from_binary(bin, :f64) |> Analytics.Series.to_list()
      [1.5, 2.5]
  """
  @spec from_binary(binary(), dtype()) :: t()
  def from_binary(binary, dtype), do: Native.series_from_binary(binary, dtype)

  @doc """
  Returns the elements as a list.

  ## Examples

      iex> Analytics.Series.from_list([3, 4], :i64) |> Analytics.Series.to_list()
      [3, 4]
  """
  @spec to_list(t()) :: [value()]
  def to_list(series), do: Native.series_to_list(series)

  @doc """
  Returns the elements as native-endian packed bytes, without copying.

  The binary points into the series' buffer and keeps it alive.

  ## Examples

      iex> Analytics.Series.from_list([1], :i64) |> Analytics.Series.to_binary()
      <<1::signed-native-64>>
  """
  @spec to_binary(t()) :: binary()
  def to_binary(series), do: Native.series_to_binary(series)

  @doc """
  The number of elements.

  ## Examples

      iex> Analytics.Series.from_list([1.0, 2.0]) |> Analytics.Series.size()
      2
  """
  @spec size(t()) :: non_neg_integer()
  def size(%__MODULE__{size: size, dtype: dtype}) when well_formed(size, dtype), do: size

  def size(other), do: not_a_series!(other)

  @doc """
  The element type, `:f64` or `:i64`.

  ## Examples

      iex> Analytics.Series.from_list([1], :i64) |> Analytics.Series.dtype()
      :i64
  """
  @spec dtype(t()) :: dtype()
  def dtype(%__MODULE__{size: size, dtype: dtype}) when well_formed(size, dtype), do: dtype

  def dtype(other), do: not_a_series!(other)

  @doc """
  The `length` elements starting at `offset`, sharing memory with `series`.

  O(1). Raises `ArgumentError` if the window does not lie within the series
  (negative offsets are not accepted).

  ## Examples

      iex> s = Analytics.Series.from_list([1, 2, 3, 4], :i64)
      iex> Analytics.Series.slice(s, 1, 2) |> Analytics.Series.to_list()
      [2, 3]
  """
  @spec slice(t(), non_neg_integer(), non_neg_integer()) :: t()
  def slice(series, offset, length), do: Native.series_slice(series, offset, length)

  @doc """
  Joins series of one dtype into a new series.

  Raises `ArgumentError` for an empty list or mixed dtypes.

  ## Examples

      iex> a = Analytics.Series.from_list([1], :i64)
      iex> b = Analytics.Series.from_list([2, 3], :i64)
      iex> Analytics.Series.concat([a, b]) |> Analytics.Series.to_list()
      [1, 2, 3]
  """
  @spec concat([t()]) :: t()
  def concat(series_list), do: Native.series_concat(series_list)

  @doc """
  The element at `index` (zero-based), as `to_list/1` would give it.

  O(1). Raises `ArgumentError` when `index` is not within the series.

  ## Examples

      iex> s = Analytics.Series.from_list([1.5, :nan, 3.0])
      iex> Analytics.Series.at(s, 0)
      1.5
      iex> Analytics.Series.at(s, 1)
      :nan
      iex> Analytics.Series.at(s, 3)
      ** (ArgumentError) index 3 is out of range for a series of 3 elements
  """
  @spec at(t(), non_neg_integer()) :: value()
  def at(series, index) when is_integer(index) and index >= 0 do
    size = size(series)

    if index >= size do
      raise ArgumentError, "index #{index} is out of range for a series of #{size} elements"
    end

    [value] = series |> slice(index, 1) |> to_list()
    value
  end

  def at(%__MODULE__{}, index) do
    raise ArgumentError, "expected a non-negative integer index, got: #{inspect(index)}"
  end

  def at(other, _index), do: not_a_series!(other)

  @doc """
  The series converted to `dtype`, as a new series (the same series when it
  already has that dtype).

  `:f64` to `:i64` truncates toward zero, like `trunc/1`, and raises
  `ArgumentError` naming the first element that has no 64-bit integer value
  (NaN, an infinity, or beyond ±2^63). `:i64` to `:f64` is exact up to 2^53
  and rounds to the nearest float beyond. Runs on a dirty CPU scheduler when
  the series is large.

  ## Examples

      iex> s = Analytics.Series.from_list([2.9, -2.9, 1.0e15])
      iex> Analytics.Series.cast(s, :i64) |> Analytics.Series.to_list()
      [2, -2, 1000000000000000]
      iex> Analytics.Series.from_list([1.0, :nan]) |> Analytics.Series.cast(:i64)
      ** (ArgumentError) cannot cast NaN at index 1 to :i64 (it has no 64-bit integer value)
  """
  @spec cast(t(), dtype()) :: t()
  def cast(series, dtype), do: Native.series_cast(series, dtype)

  @doc """
  A sorted copy of the series.

  Options, as in `Explorer.Series.sort/2`:

    * `:direction` - `:asc` (the default) or `:desc`
    * `:nan` - where NaN goes, `:first` or `:last`; by default above every
      number, as Explorer (and Polars) place nils: last ascending, first
      descending

  `-0.0` and `0.0` are equal. `:i64` sorts exactly. Runs on a dirty CPU
  scheduler when the series is large.

  ## Examples

      iex> s = Analytics.Series.from_list([3.0, :nan, -1.0, :infinity, 2.0])
      iex> Analytics.Series.sort(s) |> Analytics.Series.to_list()
      [-1.0, 2.0, 3.0, :infinity, :nan]
      iex> Analytics.Series.sort(s, direction: :desc) |> Analytics.Series.to_list()
      [:nan, :infinity, 3.0, 2.0, -1.0]
      iex> Analytics.Series.sort(s, nan: :first) |> Analytics.Series.to_list()
      [:nan, -1.0, 2.0, 3.0, :infinity]
  """
  @spec sort(t(), keyword()) :: t()
  def sort(series, opts \\ []) do
    {descending?, nan_first?} = order!(opts, :sort)
    Native.series_sort(series, descending?, nan_first?)
  end

  @doc """
  The positions that would sort the series, as an `:i64` series.

  Takes the options of `sort/2` and orders NaN the same way. The sort is
  stable: equal values keep their order.

  ## Examples

      iex> s = Analytics.Series.from_list([30, 10, 20, 10], :i64)
      iex> Analytics.Series.argsort(s) |> Analytics.Series.to_list()
      [1, 3, 2, 0]
      iex> Analytics.Series.argsort(s, direction: :desc) |> Analytics.Series.to_list()
      [0, 2, 1, 3]
  """
  @spec argsort(t(), keyword()) :: t()
  def argsort(series, opts \\ []) do
    {descending?, nan_first?} = order!(opts, :argsort)
    Native.series_argsort(series, descending?, nan_first?)
  end

  # {descending?, nan_first?} from sort/2's options.
  defp order!(opts, function) do
    opts = Keyword.validate!(opts, direction: :asc, nan: nil)

    descending? =
      case opts[:direction] do
        :asc -> false
        :desc -> true
        other -> option_error!(function, :direction, ":asc or :desc", other)
      end

    nan_first? =
      case opts[:nan] do
        nil -> descending?
        :first -> true
        :last -> false
        other -> option_error!(function, :nan, ":first or :last", other)
      end

    {descending?, nan_first?}
  end

  defp option_error!(function, option, expected, got) do
    raise ArgumentError,
          "#{function}'s #{inspect(option)} must be #{expected}, got: #{inspect(got)}"
  end

  @doc """
  The first `n` elements (all of them if there are fewer), sharing memory
  with `series`, as `slice/3` does.

  ## Examples

      iex> s = Analytics.Series.from_list(Enum.to_list(1..20), :i64)
      iex> Analytics.Series.head(s, 3) |> Analytics.Series.to_list()
      [1, 2, 3]
      iex> Analytics.Series.head(s) |> Analytics.Series.size()
      10
  """
  @spec head(t(), non_neg_integer()) :: t()
  def head(series, n \\ 10)

  def head(series, n) when is_integer(n) and n >= 0, do: slice(series, 0, min(n, size(series)))

  def head(series, n), do: count_error!(series, n)

  @doc """
  The last `n` elements (all of them if there are fewer), sharing memory
  with `series`.

  ## Examples

      iex> s = Analytics.Series.from_list([1.0, 2.0, 3.0])
      iex> Analytics.Series.tail(s, 2) |> Analytics.Series.to_list()
      [2.0, 3.0]
      iex> Analytics.Series.tail(s, 5) |> Analytics.Series.to_list()
      [1.0, 2.0, 3.0]
  """
  @spec tail(t(), non_neg_integer()) :: t()
  def tail(series, n \\ 10)

  def tail(series, n) when is_integer(n) and n >= 0 do
    size = size(series)
    slice(series, size - min(n, size), min(n, size))
  end

  def tail(series, n), do: count_error!(series, n)

  defp count_error!(%__MODULE__{}, n) do
    raise ArgumentError, "expected a non-negative integer count, got: #{inspect(n)}"
  end

  defp count_error!(other, _n), do: not_a_series!(other)

  @doc """
  The index at which `value` would be inserted into an ascending series to
  keep it sorted: before the elements equal to it (`side: :left`, the
  default, as NumPy) or after them (`side: :right`).

  The series must be sorted ascending with NaN last, as `sort/1` leaves it;
  that is not checked (it would cost a pass). O(log n), on the calling
  scheduler. Comparisons are exact between integers and floats, so an
  `:i64` column of nanosecond timestamps is searched exactly. `value` is a
  number, `:nan`, `:infinity` or `:neg_infinity`, or a list of them, which
  gives the list of their indices (as NumPy's `searchsorted` takes an array).

  ## Examples

      iex> ts = Analytics.Series.from_list([10, 20, 20, 30], :i64)
      iex> Analytics.Series.search_sorted(ts, 20)
      1
      iex> Analytics.Series.search_sorted(ts, 20, side: :right)
      3
      iex> Analytics.Series.search_sorted(ts, 25.5)
      3
      iex> Analytics.Series.search_sorted(ts, 99)
      4
      iex> Analytics.Series.search_sorted(ts, [5, 20, 30], side: :right)
      [0, 3, 4]
  """
  @spec search_sorted(t(), value(), keyword()) :: non_neg_integer()
  @spec search_sorted(t(), [value()], keyword()) :: [non_neg_integer()]
  def search_sorted(series, value_or_values, opts \\ []) do
    right? =
      case Keyword.validate!(opts, side: :left)[:side] do
        :left ->
          false

        :right ->
          true

        other ->
          option_error!(:search_sorted, :side, ":left or :right", other)
      end

    if is_list(value_or_values),
      do: Enum.map(value_or_values, &search_one(series, &1, right?)),
      else: search_one(series, value_or_values, right?)
  end

  defp search_one(series, value, right?) do
    {needle, right?} = needle(value, right?)
    Native.series_search_sorted(series, needle, right?)
  end

  # An integer beyond 64 bits is searched as its nearest float, on the side
  # that float lies: no element can fall between the two, so this is exact.
  defp needle(value, right?) when is_integer(value) and value not in @i64_range do
    nearest = Analytics.Expr.constant!(value)

    cond do
      nearest == :infinity -> {nearest, false}
      nearest == :neg_infinity -> {nearest, true}
      trunc(nearest) > value -> {nearest, false}
      trunc(nearest) < value -> {nearest, true}
      true -> {nearest, right?}
    end
  end

  defp needle(value, right?), do: {value, right?}

  defp not_a_series!(%__MODULE__{} = forged) do
    raise ArgumentError,
          "not a valid %Analytics.Series{}: its :size and :dtype fields do not match its data, got: " <>
            inspect(forged)
  end

  defp not_a_series!(other) do
    raise ArgumentError, "expected an %Analytics.Series{}, got: #{inspect(other)}"
  end
end
