defmodule AnalyticsService.Params do
  @moduledoc """
  Turns request parameters (query strings or decoded JSON) into the
  arguments of `Analytics` calls, raising `AnalyticsService.BadRequest`
  with a message that names the parameter and what is wrong with it.
  """
  alias AnalyticsService.BadRequest

  @default_reducers ~w(count mean min max standard_deviation p50 p90 p99)
  @max_reducers 32
  @max_buckets 100_000
  @named_reducers %{
    "count" => :count,
    "sum" => :sum,
    "mean" => :mean,
    "min" => :min,
    "max" => :max,
    "product" => :product,
    "variance" => :variance,
    "standard_deviation" => :standard_deviation,
    "std" => :standard_deviation,
    "median" => :median,
    "n_distinct" => :n_distinct,
    "approx_n_distinct" => :approx_n_distinct,
    "argmin" => :argmin,
    "argmax" => :argmax
  }
  # Group keys the service names; any other `by` is an expression.
  @named_groupings %{
    "hour_of_day" => "floor(timestamp / 3600) - 24 * floor(timestamp / 86400)",
    "day_of_week" => "floor((timestamp / 86400 + 3) - 7 * floor((timestamp / 86400 + 3) / 7))"
  }

  @type reducers :: [{String.t(), Analytics.reducer()}, ...]

  @doc "`{from, to}` from the optional `from` and `to` (unix seconds, `to` exclusive)."
  @spec time_range(map()) :: {integer() | nil, integer() | nil}
  def time_range(params) do
    from = integer(params, "from")
    to = integer(params, "to")

    if from && to && from >= to do
      raise BadRequest, "from (#{from}) must be before to (#{to})"
    end

    {from, to}
  end

  @doc """
  The requested reducers as `{label, reducer}`: a comma-separated string or
  a JSON list of names like `mean`, `p99` (quantile 0.99) or `approx_p99`.
  """
  @spec reducers(map()) :: reducers()
  def reducers(params) do
    names =
      case Map.get(params, "reducers", @default_reducers) do
        text when is_binary(text) -> String.split(text, ",", trim: true)
        list when is_list(list) -> list
        other -> raise BadRequest, "reducers must be a list of names, got: #{short(other)}"
      end

    case names do
      [] ->
        raise BadRequest, "reducers must name at least one reducer"

      names when length(names) > @max_reducers ->
        raise BadRequest, "at most #{@max_reducers} reducers"

      names ->
        Enum.map(names, &{&1, reducer(&1)})
    end
  end

  defp reducer(name) when is_binary(name) do
    case {@named_reducers[name], name} do
      {nil, "approx_p" <> percent} -> {:approx_quantile, percentile(percent, name)}
      {nil, "p" <> percent} -> {:quantile, percentile(percent, name)}
      {nil, _} -> raise BadRequest, "unknown reducer #{inspect(name)}"
      {reducer, _} -> reducer
    end
  end

  defp reducer(other), do: raise(BadRequest, "a reducer must be a name, got: #{short(other)}")

  defp percentile(text, name) do
    case Float.parse(text) do
      {percent, ""} when percent >= 0 and percent <= 100 -> percent / 100
      _ -> raise BadRequest, "unknown reducer #{inspect(name)} (percentiles go from p0 to p100)"
    end
  end

  @doc """
  The bucket width in seconds (`width`, required), checked against the
  number of buckets it makes over `span`.
  """
  @spec width(map(), {integer(), integer()} | nil) :: pos_integer()
  def width(params, span) do
    width = integer(params, "width") || raise BadRequest, "width (seconds per bucket) is required"
    if width <= 0, do: raise(BadRequest, "width must be positive, got: #{width}")

    with {first, last} <- span,
         buckets when buckets > @max_buckets <- div(last - first, width) + 1 do
      raise BadRequest,
            "#{buckets} buckets is more than #{@max_buckets}; use a larger width or a shorter range"
    end

    width
  end

  @doc "The expression in `key`, parsed, or `nil` when absent."
  @spec expression(map(), String.t()) :: Analytics.Expr.t() | nil
  def expression(params, key) do
    case Map.get(params, key) do
      nil -> nil
      source -> parse_expression!(source, key)
    end
  end

  @doc """
  The group key expression in `key`: `hour_of_day`, `day_of_week` (0 is
  Monday) or an expression over `timestamp` and `value`; `nil` when absent.
  """
  @spec group_by(map(), String.t()) :: Analytics.Expr.t() | nil
  def group_by(params, key) do
    case Map.get(params, key) do
      nil -> nil
      source -> parse_expression!(Map.get(@named_groupings, source, source), key)
    end
  end

  defp parse_expression!(source, key) when not is_binary(source),
    do: raise(BadRequest, "#{key} must be an expression string, got: #{short(source)}")

  defp parse_expression!(source, key) do
    case Analytics.Expr.parse(source) do
      {:ok, %{variables: variables} = expression} ->
        case variables -- [:timestamp, :value] do
          [] ->
            expression

          unknown ->
            raise BadRequest,
                  "#{key}: unknown column #{inspect(unknown)}; use timestamp and value"
        end

      {:error, message} ->
        raise BadRequest, "#{key}: #{message}"
    end
  end

  defp integer(params, key) do
    case Map.get(params, key) do
      nil ->
        nil

      value when is_integer(value) ->
        value

      text when is_binary(text) ->
        case Integer.parse(text) do
          {value, ""} -> value
          _ -> raise BadRequest, "#{key} must be an integer, got: #{short(text)}"
        end

      other ->
        raise BadRequest, "#{key} must be an integer, got: #{short(other)}"
    end
  end

  # Echoes of client input stay short.
  defp short(value), do: value |> inspect(limit: 5, printable_limit: 40) |> String.slice(0, 60)
end
