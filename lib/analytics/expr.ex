defmodule Analytics.Expr do
  @moduledoc """
  Expressions over columns, for `Analytics.map/2` and the `:map` and `:where`
  options of `Analytics.reduce/3`.

  Build them with the `Analytics.expr/1` macro, which turns ordinary Elixir
  code into a tree at compile time. Native code evaluates the tree a block of
  about a thousand rows at a time, in `:f64`, so the cost of interpreting it
  is spread over many rows.

  ## What an expression may contain

    * variables, one per input column (`x`, `latency`, ...)
    * numbers, `:nan`, `:infinity`, `:neg_infinity`, and pinned values
      (`^threshold`) read when the expression is built
    * arithmetic: `+ - * /`, unary `-`, `**`, `abs/1`, `sqrt/1`, `log/1`,
      `exp/1`, `pow/2`, `min/2`, `max/2`, `floor/1`, `ceil/1`
    * comparisons: `< <= > >= == !=`, and `is_nan/1`, `is_infinite/1`,
      `is_finite/1`
    * logic over comparisons: `and`, `or`, `not` (and `&&`, `||`, `!`)

  Arithmetic follows IEEE 754 (`1 / 0` is `:infinity`, `sqrt(-1)` is
  `:nan`); `min/2` and `max/2` propagate NaN; every comparison with NaN is
  false except `!=`. Integers are converted to floats, exactly up to 2^53.
  Anything else is a compile-time error, as is arithmetic on a comparison or
  `and` on a number.

  ## Examples

      iex> require Analytics
      iex> e = Analytics.expr(x * 2 + 1)
      iex> e.variables
      [:x]
      iex> Analytics.map([1.0, 2.0], e) |> Analytics.Series.to_list()
      [3.0, 5.0]
  """

  @enforce_keys [:tree, :variables]
  defstruct [:tree, :variables]

  @typedoc """
  `tree` is `{:variable, name}`, `{:constant, number}`, `{op, operand}` or
  `{op, left, right}`; `variables` lists the names it uses, sorted.
  """
  @type t :: %__MODULE__{tree: tuple(), variables: [atom()]}

  @binary %{
    +: :add,
    -: :subtract,
    *: :multiply,
    /: :divide,
    **: :pow,
    <: :less,
    <=: :less_equal,
    >: :greater,
    >=: :greater_equal,
    ==: :equal,
    !=: :not_equal,
    and: :and,
    &&: :and,
    or: :or,
    ||: :or
  }
  @unary %{-: :negate, not: :not, !: :not}
  @functions %{
    {:abs, 1} => :abs,
    {:sqrt, 1} => :sqrt,
    {:log, 1} => :log,
    {:exp, 1} => :exp,
    {:floor, 1} => :floor,
    {:ceil, 1} => :ceil,
    {:pow, 2} => :pow,
    {:min, 2} => :min,
    {:max, 2} => :max,
    {:is_nan, 1} => :is_nan,
    {:is_infinite, 1} => :is_infinite,
    {:is_finite, 1} => :is_finite
  }
  @predicates [:less, :less_equal, :greater, :greater_equal, :equal, :not_equal] ++
                [:is_nan, :is_infinite, :is_finite, :and, :or, :not]
  @logical [:and, :or, :not]
  @non_finite [:nan, :infinity, :neg_infinity]

  @doc false
  # The body of Analytics.expr/1: quoted code that builds the struct.
  @spec build(Macro.t(), Macro.Env.t()) :: Macro.t()
  def build(code, caller) do
    tree = translate(code, caller)
    check_kinds!(tree, code, caller)
    variables = tree |> collect_variables([]) |> Enum.uniq() |> Enum.sort()

    quote do: %Analytics.Expr{
            tree: unquote(Macro.escape(tree, unquote: true)),
            variables: unquote(variables)
          }
  end

  defp translate({name, _, context}, _caller) when is_atom(name) and is_atom(context),
    do: {:variable, name}

  defp translate(number, _caller) when is_number(number), do: {:constant, number}
  defp translate(atom, _caller) when atom in @non_finite, do: {:constant, atom}

  defp translate({:^, _, [value]}, _caller) do
    {:constant, {:unquote, [], [quote(do: Analytics.Expr.constant!(unquote(value)))]}}
  end

  defp translate({:+, _, [operand]}, caller), do: translate(operand, caller)

  defp translate({op, _, [operand]}, caller) when is_map_key(@unary, op),
    do: {@unary[op], translate(operand, caller)}

  defp translate({op, _, [left, right]}, caller) when is_map_key(@binary, op),
    do: {@binary[op], translate(left, caller), translate(right, caller)}

  defp translate({name, _, args} = code, caller) when is_atom(name) and is_list(args) do
    case @functions[{name, length(args)}] do
      nil -> unsupported!(code, caller)
      op -> List.to_tuple([op | Enum.map(args, &translate(&1, caller))])
    end
  end

  defp translate(code, caller), do: unsupported!(code, caller)

  defp unsupported!(code, caller) do
    raise CompileError,
      file: caller.file,
      line: caller.line,
      description:
        "Analytics.expr does not support #{Macro.to_string(code)}; it takes variables, numbers, " <>
          "^pinned values, + - * / ** abs sqrt log exp pow min max floor ceil, " <>
          "< <= > >= == != is_nan is_infinite is_finite, and/or/not"
  end

  # :number or :predicate, raising where an operator gets the wrong kind.
  defp check_kinds!(tree, code, caller) do
    case kind(tree) do
      {:error, message} ->
        raise CompileError,
          file: caller.file,
          line: caller.line,
          description: "Analytics.expr(#{Macro.to_string(code)}): #{message}"

      _kind ->
        :ok
    end
  end

  defp kind({leaf, _}) when leaf in [:variable, :constant], do: :number

  defp kind({op, _} = node) when op in @logical, do: operands(node, :predicate, :predicate)
  defp kind({op, _, _} = node) when op in @logical, do: operands(node, :predicate, :predicate)
  defp kind({op, _} = node) when op in @predicates, do: operands(node, :number, :predicate)
  defp kind({op, _, _} = node) when op in @predicates, do: operands(node, :number, :predicate)
  defp kind(node), do: operands(node, :number, :number)

  defp operands(node, wanted, result) do
    [op | args] = Tuple.to_list(node)

    Enum.reduce_while(args, result, fn arg, result ->
      case kind(arg) do
        {:error, _} = error -> {:halt, error}
        ^wanted -> {:cont, result}
        other -> {:halt, {:error, "#{op} takes #{article(wanted)}, got #{article(other)}"}}
      end
    end)
  end

  defp article(:number), do: "a number"
  defp article(:predicate), do: "a comparison"

  defp collect_variables({:variable, name}, acc), do: [name | acc]
  defp collect_variables({:constant, _}, acc), do: acc

  defp collect_variables(node, acc) do
    node |> Tuple.to_list() |> tl() |> Enum.reduce(acc, &collect_variables/2)
  end

  @doc false
  # A pinned value, checked when the expression is built.
  @spec constant!(term()) :: number() | :nan | :infinity | :neg_infinity
  def constant!(value) when is_number(value) or value in @non_finite, do: value

  def constant!(value) do
    raise ArgumentError,
          "a pinned value in Analytics.expr must be a number, :nan, :infinity or :neg_infinity, " <>
            "got: #{inspect(value)}"
  end

  @doc false
  # The tree the NIF takes: variables become indices into `names`.
  @spec native_tree(t(), [atom()]) :: tuple()
  def native_tree(%__MODULE__{tree: tree}, names) do
    index = names |> Enum.with_index() |> Map.new()
    resolve(tree, index)
  end

  defp resolve({:variable, name}, index) do
    case Map.fetch(index, name) do
      {:ok, column} ->
        {:column, column}

      :error ->
        raise ArgumentError, "expression variable #{inspect(name)} is not bound to a column"
    end
  end

  defp resolve({:constant, _} = constant, _index), do: constant

  defp resolve(node, index) when is_tuple(node) and tuple_size(node) > 1 do
    [op | args] = Tuple.to_list(node)
    List.to_tuple([op | Enum.map(args, &resolve(&1, index))])
  end

  # Anything else goes to the NIF as it is, which says what is wrong with it.
  defp resolve(other, _index), do: other
end
