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
  @max_groups 100_000
  # Buckets or groups times reducers: an answer's numbers (about 20 bytes
  # of JSON each).
  @max_cells 250_000
  # Pixel columns of a chart: wider than any screen.
  @max_pixels 10_000
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

  @doc """
  Raises unless every parameter is one of `allowed`: a misspelt one
  (`reducer=p99`) would otherwise be ignored and answered with defaults.
  """
  @spec only!(map(), [String.t()]) :: :ok
  def only!(params, allowed) do
    case params |> Map.keys() |> Enum.reject(&(&1 in allowed)) |> Enum.sort() do
      [] ->
        :ok

      [name | _] ->
        raise BadRequest,
              "unknown parameter #{short(name)}; this endpoint takes #{Enum.join(allowed, ", ")}"
    end
  end

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
        # Never split past the limit, however long the text.
        text when is_binary(text) -> String.split(text, ",", parts: @max_reducers + 1)
        list when is_list(list) -> list
        other -> raise BadRequest, "reducers must be a list of names, got: #{short(other)}"
      end
      |> Enum.reject(&(&1 == ""))

    cond do
      names == [] ->
        raise BadRequest, "reducers must name at least one reducer"

      length(names) > @max_reducers ->
        raise BadRequest, "at most #{@max_reducers} reducers"

      true ->
        names |> Enum.map(&{&1, reducer(&1)}) |> unique!()
    end
  end

  # Asking twice for one reducer only multiplies the work.
  defp unique!(labelled) do
    labelled
    |> Enum.group_by(&elem(&1, 1), &elem(&1, 0))
    |> Enum.find(fn {_reducer, labels} -> length(labels) > 1 end)
    |> case do
      nil ->
        labelled

      {_reducer, labels} ->
        raise BadRequest,
              "reducers #{labels |> Enum.uniq() |> Enum.map_join(" and ", &short/1)} ask for the same reducer twice"
    end
  end

  defp reducer(name) when is_binary(name) do
    case {@named_reducers[name], name} do
      {nil, "approx_p" <> percent} -> {:approx_quantile, percentile(percent, name)}
      {nil, "p" <> percent} -> {:quantile, percentile(percent, name)}
      {nil, _} -> raise BadRequest, "unknown reducer #{short(name)}"
      {reducer, _} -> reducer
    end
  end

  defp reducer(other), do: raise(BadRequest, "a reducer must be a name, got: #{short(other)}")

  defp percentile(text, name) do
    case Float.parse(text) do
      {percent, ""} when percent >= 0 and percent <= 100 -> percent / 100
      _ -> raise BadRequest, "unknown reducer #{short(name)} (percentiles go from p0 to p100)"
    end
  end

  @doc """
  The bucket width in seconds (`width`, required), checked against the
  number of buckets it makes over `span`.
  """
  @spec width(map(), {integer(), integer()} | nil, pos_integer()) :: pos_integer()
  def width(params, span, reducers \\ 1) do
    width = integer(params, "width") || raise BadRequest, "width (seconds per bucket) is required"
    if width <= 0, do: raise(BadRequest, "width must be positive, got: #{width}")

    with {first, last} <- span,
         buckets when buckets > @max_buckets <- div(last - first, width) + 1 do
      raise BadRequest,
            "#{buckets} buckets is more than #{@max_buckets}; use a larger width or a shorter range"
    end

    with {first, last} <- span do
      cells!(div(last - first, width) + 1, reducers, "buckets")
    end

    width
  end

  @doc """
  A chart's width in pixel columns (`width`, required): 1 to #{@max_pixels}.
  """
  @spec pixels(map()) :: pos_integer()
  def pixels(params) do
    width = integer(params, "width") || raise BadRequest, "width (pixels) is required"

    if width <= 0 or width > @max_pixels do
      raise BadRequest, "width must be 1 to #{@max_pixels} pixels, got: #{width}"
    end

    width
  end

  @doc """
  Checks the number of groups a grouping makes (counted before any
  reducer runs) against the limit on groups and on groups × reducers.
  """
  @spec groups!(non_neg_integer(), pos_integer()) :: :ok
  def groups!(groups, reducers) do
    if groups > @max_groups do
      raise BadRequest,
            "#{groups} groups is more than #{@max_groups}; group by something coarser or use a shorter range"
    end

    cells!(groups, reducers, "groups")
  end

  defp cells!(rows, reducers, what) do
    if rows * reducers > @max_cells do
      raise BadRequest,
            "#{rows} #{what} × #{reducers} reducers is more than #{@max_cells} results; ask for fewer"
    end

    :ok
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
          [] -> expression
          [name | _] -> unknown_name!(key, name)
        end

      {:error, "unknown name " <> rest} ->
        unknown_name!(key, rest |> String.split(" ", parts: 2) |> hd())

      {:error, "Analytics.expr does not support " <> rest = message} ->
        # A call of a function the message does not list is said as for a
        # name that is not an atom, so that no answer tells which atoms
        # exist; a listed one was called wrongly, and the message says how.
        with [_, name] <- Regex.run(~r/^([A-Za-z_][A-Za-z0-9_]*)[A-Za-z0-9_.]*[?!]?\(/, rest),
             [_, takes] <- Regex.run(~r/; it takes (.*)$/, rest),
             false <- name in String.split(takes, ~r/[\s,\/]+/) do
          unknown_name!(key, name)
        else
          _ -> raise BadRequest, "#{key}: #{message}"
        end

      {:error, message} ->
        raise BadRequest, "#{key}: #{message}"
    end
  end

  # One message for every name the service does not know.
  defp unknown_name!(key, name) do
    raise BadRequest,
          "#{key}: unknown name #{String.slice(to_string(name), 0, 40)}; the columns are timestamp and value, the functions those of Analytics.Expr"
  end

  defp integer(params, key) do
    case Map.get(params, key) do
      nil ->
        nil

      value when is_integer(value) ->
        in_range!(key, value)

      text when is_binary(text) ->
        case Integer.parse(text) do
          {value, ""} -> in_range!(key, value)
          _ -> raise BadRequest, "#{key} must be an integer, got: #{short(text)}"
        end

      other ->
        raise BadRequest, "#{key} must be an integer, got: #{short(other)}"
    end
  end

  defp in_range!(_key, value) when value in -0x8000000000000000..0x7FFFFFFFFFFFFFFF, do: value

  defp in_range!(key, value),
    do: raise(BadRequest, "#{key} is out of range (a 64-bit integer), got: #{short(value)}")

  # Echoes of client input stay short.
  defp short(value), do: value |> inspect(limit: 5, printable_limit: 40) |> String.slice(0, 60)
end
