defmodule Analytics.Query do
  # Binds the variables of map/where expressions to input columns, and checks
  # the options, for Analytics.map/2 and Analytics.reduce/3.
  @moduledoc false

  alias Analytics.{Expr, Series}

  @doc false
  @spec expression!(term(), String.t()) :: Expr.t() | nil
  def expression!(nil, _what), do: nil
  def expression!(%Expr{} = expression, _what), do: expression

  def expression!(other, what) do
    raise ArgumentError,
          "#{what} must be an %Analytics.Expr{} built with Analytics.expr/1, got: #{inspect(other)}"
  end

  @doc false
  # The columns to hand to the NIF, and the variable each one binds.
  @spec columns(term(), Expr.t() | nil, Expr.t() | nil) :: {[term()], [atom()]}
  def columns(input, map, where) do
    map = expression!(map, "map:")
    where = expression!(where, "where:")
    names = [map, where] |> Enum.reject(&is_nil/1) |> Enum.flat_map(& &1.variables) |> Enum.uniq()

    cond do
      is_struct(input, Series) or is_list(input) ->
        single(input, Enum.sort(names))

      is_map(input) and not is_struct(input) ->
        named(input, Enum.sort(names), map)

      true ->
        raise ArgumentError,
              "expected a Series, a list of numbers or a map of them, got: #{inspect(input)}"
    end
  end

  @doc false
  @spec tree(Expr.t() | nil, [atom()]) :: tuple() | nil
  def tree(nil, _names), do: nil
  def tree(expression, names), do: Expr.native_tree(expression, names)

  defp single(input, names) when length(names) <= 1, do: {[input], names}

  defp single(_input, names) do
    raise ArgumentError,
          "the expressions use #{length(names)} variables (#{Enum.map_join(names, ", ", &inspect/1)}) " <>
            "but the input is a single column; pass a map of columns such as %{x: series, y: series}, " <>
            "or pin (^name) any of them that is an Elixir variable, to use its value"
  end

  defp named(input, names, map) do
    names =
      cond do
        map == nil and map_size(input) != 1 ->
          raise ArgumentError,
                "reducing a map of #{map_size(input)} columns needs map: to say what to reduce"

        map == nil or names == [] ->
          Enum.sort(Map.keys(input) ++ names) |> Enum.uniq()

        true ->
          names
      end

    case Enum.reject(names, &Map.has_key?(input, &1)) do
      [] ->
        {Enum.map(names, &Map.fetch!(input, &1)), names}

      missing ->
        raise ArgumentError,
              "the expressions use #{Enum.map_join(missing, ", ", &inspect/1)}, but the input's columns are " <>
                "#{input |> Map.keys() |> Enum.map_join(", ", &inspect/1)}#{Expr.pin_hint(missing)}"
    end
  end

  @doc false
  # Input rows: of a Series, a list, or the first column of a map.
  @spec rows(term()) :: non_neg_integer()
  def rows(%Series{} = series), do: Series.size(series)
  def rows(list) when is_list(list), do: length(list)

  def rows(%{} = columns) when map_size(columns) > 0,
    do: columns |> Enum.min() |> elem(1) |> rows()

  def rows(_other), do: 0
end
