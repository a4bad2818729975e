defmodule Analytics.Reducers do
  # Turns the reducers users write into the specs the NIF takes, keeping the
  # user's term as the key of the result map.
  @moduledoc false

  @plain [
    :sum,
    :count,
    :min,
    :max,
    :mean,
    :product,
    :argmin,
    :argmax,
    :n_distinct,
    :approx_n_distinct
  ]
  @with_ddof [:variance, :standard_deviation]

  @typedoc "A reducer as the NIF takes it."
  @type spec ::
          atom()
          | {:variance | :standard_deviation, non_neg_integer()}
          | {:quantile | :approx_quantile, number()}

  @doc false
  # Specs for one reducer or a non-empty list of them.
  @spec normalize_all(Analytics.reducer() | [Analytics.reducer()]) :: [spec(), ...]
  def normalize_all([]), do: raise(ArgumentError, "expected at least one reducer, got: []")
  def normalize_all(reducers) when is_list(reducers), do: normalize_list(reducers, reducers)
  def normalize_all(reducer), do: [normalize(reducer)]

  defp normalize_list([], _all), do: []
  defp normalize_list([reducer | rest], all), do: [normalize(reducer) | normalize_list(rest, all)]

  defp normalize_list(_tail, all),
    do: raise(ArgumentError, "expected a proper list of reducers, got: #{inspect(all)}")

  @doc false
  @spec normalize(Analytics.reducer()) :: spec()
  def normalize(reducer) when reducer in @plain, do: reducer
  def normalize(reducer) when reducer in @with_ddof, do: {reducer, 1}
  def normalize(:median), do: {:quantile, 0.5}

  def normalize({reducer, opts} = given) when reducer in @with_ddof and is_list(opts) do
    case opts do
      [] ->
        {reducer, 1}

      [ddof: ddof] when is_integer(ddof) and ddof >= 0 ->
        {reducer, ddof}

      _ ->
        raise ArgumentError,
              "#{inspect(given)}: the only option is ddof, a non-negative integer (default 1)"
    end
  end

  def normalize({kind, q})
      when kind in [:quantile, :approx_quantile] and is_number(q) and q >= 0 and q <= 1,
      do: {kind, q}

  def normalize({kind, q}) when kind in [:quantile, :approx_quantile] do
    raise ArgumentError, "quantile must be a number between 0 and 1, got: #{inspect(q)}"
  end

  def normalize(other) do
    raise ArgumentError,
          "unknown reducer: #{inspect(other)}; expected one of " <>
            "#{Enum.map_join(@plain ++ @with_ddof ++ [:median], ", ", &inspect/1)}, " <>
            "{:quantile, q}, {:approx_quantile, q}, {:variance, ddof: d} or {:standard_deviation, ddof: d}"
  end

  @mergeable [:sum, :count, :min, :max, :mean, :product, :argmin, :argmax, :approx_n_distinct]

  @doc false
  # Raises unless the reducer's state merges exactly.
  def mergeable!({_given, spec}) when spec in @mergeable, do: :ok
  def mergeable!({_given, {kind, _ddof}}) when kind in @with_ddof, do: :ok
  def mergeable!({_given, {:approx_quantile, _q}}), do: :ok

  def mergeable!({given, _spec}) do
    raise ArgumentError,
          "#{inspect(given)} cannot be merged exactly (it needs a sketch), so it cannot be split " <>
            "(parallel: true) or computed by partial/3; those take #{Enum.map_join(@mergeable ++ @with_ddof, ", ", &inspect/1)} " <>
            "and {:approx_quantile, q}"
  end

  @doc false
  # The NIF reducers whose values make up a state for `specs`.
  def state_fields(specs) do
    wanted = fn field -> Enum.any?(specs, &(&1 == field)) end
    spread? = Enum.any?(specs, &match?({kind, _} when kind in @with_ddof, &1))

    [:count, :sum] ++
      extreme(:min, wanted.(:min), wanted.(:argmin)) ++
      extreme(:max, wanted.(:max), wanted.(:argmax)) ++
      if(spread?, do: [{:variance, 0}], else: []) ++
      if(wanted.(:product), do: [:product], else: []) ++
      if(wanted.(:approx_n_distinct), do: [:hll_state], else: []) ++
      if(Enum.any?(specs, &match?({:approx_quantile, _}, &1)), do: [:dd_state], else: [])
  end

  # A position costs an extra pass, so it is only asked for when wanted; the
  # extreme itself is needed to merge positions.
  defp extreme(_field, false, false), do: []
  defp extreme(field, _value?, false), do: [field]
  defp extreme(field, _value?, true), do: [field, :"arg#{field}"]

  @doc false
  # What State.finalize_one/2 takes for a reducer as the user wrote it.
  def finalizer(reducer) do
    case normalize(reducer) do
      {kind, ddof} when kind in @with_ddof -> {kind, ddof}
      plain -> plain
    end
  end
end
