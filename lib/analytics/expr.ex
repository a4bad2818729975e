defmodule Analytics.Expr do
  @moduledoc """
  Expressions over columns, for `Analytics.map/2` and the `:map` and `:where`
  options of `Analytics.reduce/3`.

  Build them with the `Analytics.expr/1` macro, which turns ordinary Elixir
  code into a tree at compile time. Native code evaluates the tree a block of
  about a thousand rows at a time, so the cost of interpreting it is spread
  over many rows.

  ## What an expression may contain

    * variables, one per input column (`x`, `latency`, ...)
    * numbers, `:nan`, `:infinity`, `:neg_infinity`, and pinned values
      (`^threshold`) read when the expression is built; a bare name is always
      a column, so an Elixir variable meant as a value must be pinned
    * arithmetic: `+ - * /`, unary `-`, `**`, `abs/1`, `sqrt/1`, `log/1`,
      `log10/1`, `exp/1`, `pow/2`, `min/2`, `max/2`, `floor/1`, `ceil/1`,
      `round/1`, `div/2`, `rem/2`
    * comparisons: `< <= > >= == !=`, and `is_nan/1`, `is_infinite/1`,
      `is_finite/1`
    * logic over comparisons: `and`, `or`, `not` (and `&&`, `||`, `!`)
    * a conditional, row by row: `if(condition, a, b)` (also written
      `if condition, do: a, else: b`, or `select(condition, a, b)`); both
      branches are numbers or both comparisons

  ## Types

  Every number is `:i64` or `:f64`. Integer columns and integer constants
  are `:i64`, and stay `:i64` through `+ - * abs min max div rem floor ceil
  round`, unary `-` and `if`, when every operand is `:i64`: this arithmetic
  is exact, and a result beyond the signed 64-bit range raises
  `ArgumentError` naming the row (it never wraps). Anything else is `:f64`:
  `/`, `**`, `sqrt`, `log`, `log10`, `exp`, `pow`, and any operator with an
  `:f64` operand (an `:i64` operand is converted, exactly up to 2^53).
  `Analytics.map/2` returns a series of the expression's type.

  `div/2` and `rem/2` truncate toward zero, as Elixir's do (`rem` takes the
  dividend's sign). By zero, on `:i64`, `div` gives `0` and `rem` the
  dividend (so `x == div(x, y) * y + rem(x, y)` always holds); on `:f64`,
  `div(x, 0.0)` is an infinity (`:nan` for 0) and `rem(x, 0.0)` is `:nan`.
  Both branches of `if` are evaluated on every row, so an overflow in the
  branch not taken still raises. `round/1` rounds half away from zero; on
  `:f64`, `floor`, `ceil` and `round` give floats.

  Comparisons are exact between any two numbers, `:i64` against `:f64`
  included, so nanosecond timestamps beyond 2^53 compare correctly. `:f64`
  arithmetic follows IEEE 754 (`1 / 0` is `:infinity`, `sqrt(-1)` is
  `:nan`); `min/2` and `max/2` propagate NaN; every comparison with NaN is
  false except `!=`.

  An integer constant beyond the signed 64-bit range becomes the nearest
  float, and one beyond the float range (`1` followed by 400 zeros)
  becomes `:infinity` or `:neg_infinity`, in source text and pinned values
  alike. Anything else is a compile-time error, as is arithmetic on a
  comparison or `and` on a number.

  ## Examples

      iex> require Analytics
      iex> e = Analytics.expr(x * 2 + 1)
      iex> e.variables
      [:x]
      iex> Analytics.map([1.0, 2.0], e) |> Analytics.Series.to_list()
      [3.0, 5.0]
      iex> Analytics.map([7, -7, 5], Analytics.expr(if(x > 0, div(x, 2), rem(x, 2)))) |> Analytics.Series.to_list()
      [3, -1, 2]
  """

  @enforce_keys [:tree, :variables]
  defstruct [:tree, :variables]

  @typedoc """
  `tree` is `{:variable, name}`, `{:constant, number}`, `{op, operand}`,
  `{op, left, right}` or `{:select, condition, if_true, if_false}`;
  `variables` lists the names it uses, sorted.
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
    {:round, 1} => :round,
    {:log10, 1} => :log10,
    {:div, 2} => :div,
    {:rem, 2} => :rem,
    {:if, 3} => :select,
    {:select, 3} => :select,
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

  @max_depth 64
  @max_nodes 1024
  @i64_min -0x8000000000000000
  @i64_max 0x7FFFFFFFFFFFFFFF

  # Longer source text is refused by parse/1 before the parser sees it.
  @max_source_bytes 4096

  @doc false
  # The body of Analytics.expr/1: quoted code that builds the struct.
  @spec build(Macro.t(), Macro.Env.t()) :: Macro.t()
  def build(code, caller) do
    case checked_tree(code, :compile) do
      {:ok, tree, variables} ->
        quote do: %Analytics.Expr{
                tree: unquote(Macro.escape(tree, unquote: true)),
                variables: unquote(variables)
              }

      {:error, message} ->
        raise CompileError, file: caller.file, line: caller.line, description: message
    end
  end

  @doc """
  Builds an expression at run time from Elixir source text, for expressions
  that arrive as data (a query in a web request, a config file).

  The text follows the rules of `Analytics.expr/1`, except that it cannot pin
  values (`^x`): write numbers in place. Numbers may also be written as
  JSON writes them, with an exponent and no fraction (`1e3`, `5E-4`). Nothing is evaluated and no atom is
  created: a variable must name a column the caller will bind, and an
  unknown name is refused. Text over #{@max_source_bytes} bytes is refused too.

  ## Examples

      iex> {:ok, e} = Analytics.Expr.parse("value * 2 + 1")
      iex> Analytics.map(%{value: [1.0, 2.0]}, e) |> Analytics.Series.to_list()
      [3.0, 5.0]
      iex> Analytics.Expr.parse("value > 0.5 and not is_nan(value)") |> elem(0)
      :ok
      iex> {:ok, e} = Analytics.Expr.parse("value * 1e3 + 2.5E-1")
      iex> Analytics.map(%{value: [1.0]}, e) |> Analytics.Series.to_list()
      [1000.25]
      iex> Analytics.Expr.parse("File.rm(value)")
      {:error, "Analytics.expr does not support File.rm(value); it takes variables, numbers, + - * / ** abs sqrt log log10 exp pow min max floor ceil round div rem, < <= > >= == != is_nan is_infinite is_finite, and/or/not, if(c, a, b)"}
      iex> Analytics.Expr.parse("value +")
      {:error, "syntax error before: end of the expression (column 7)"}
  """
  @spec parse(String.t()) :: {:ok, t()} | {:error, String.t()}
  def parse(source) when is_binary(source) and byte_size(source) > @max_source_bytes,
    do: {:error, "expression is longer than #{@max_source_bytes} bytes"}

  def parse(source) when is_binary(source) do
    with {:ok, code} <- source |> with_float_exponents() |> quote_source(),
         {:ok, tree, variables} <- checked_tree(code, :runtime) do
      {:ok, %__MODULE__{tree: tree, variables: variables}}
    end
  end

  def parse(other), do: {:error, "expected the expression as a string, got: #{inspect(other)}"}

  @doc """
  Like `parse/1`, but raises `ArgumentError` with the reason.

  ## Examples

      iex> Analytics.Expr.parse!("max(a, b)").variables
      [:a, :b]
  """
  @spec parse!(String.t()) :: t()
  def parse!(source) do
    case parse(source) do
      {:ok, expression} -> expression
      {:error, message} -> raise ArgumentError, message
    end
  end

  # Text written as JSON or C writes numbers: `1e3` and `2.5E-4` are floats
  # there, but Elixir's parser wants a fraction before the exponent. A
  # digit run that is part of a name (`x1e3`) or a fraction is left alone.
  defp with_float_exponents(source) do
    Regex.replace(~r/(?<![\w.])(\d[\d_]*)(\.\d[\d_]*)?([eE][+-]?\d+)/, source, fn
      _all, whole, "", exponent -> whole <> ".0" <> exponent
      all, _whole, _fraction, _exponent -> all
    end)
  end

  # Names become atoms only when they already exist, so a request cannot
  # grow the atom table; a name that is no atom yet cannot be a bound column.
  defp quote_source(source) do
    encoder = fn name, _meta ->
      try do
        {:ok, String.to_existing_atom(name)}
      rescue
        ArgumentError -> {:error, "unknown name #{name}"}
      end
    end

    case string_to_quoted(source, encoder) do
      {:ok, empty} when empty in [nil, {:__block__, [], []}] ->
        {:error, "expression is empty"}

      {:ok, code} ->
        {:ok, code}

      {:error, {meta, message, token}} ->
        {:error, with_column(syntax_message(message, token), meta[:column])}
    end
  end

  # Elixir 1.14's parser raises CaseClauseError when the atom encoder refuses
  # a quoted keyword key (`"zzq": 1`); the refusal is inside the clause term.
  # Warnings about the text (`"x": 1` needs no quotes) would be log noise for
  # every request that carries one.
  defp string_to_quoted(source, encoder) do
    Code.string_to_quoted(source,
      static_atoms_encoder: encoder,
      columns: true,
      emit_warnings: false
    )
  rescue
    error ->
      case error do
        %CaseClauseError{term: {:error, {_line, column, message, token}, _rest, _}}
        when is_integer(column) and is_list(message) and is_list(token) ->
          {:error, {[column: column], List.to_string(message), List.to_string(token)}}

        _other ->
          {:error, {[column: 1], "cannot parse the expression: ", Exception.message(error)}}
      end
  end

  # Some of the parser's messages already say where.
  defp with_column(message, column) do
    if message =~ "(column ", do: message, else: "#{message} (column #{column})"
  end

  defp syntax_message("unknown name " <> _ = message, _token),
    do: String.trim_trailing(message, ": ")

  defp syntax_message(message, ""), do: "#{message}end of the expression"
  defp syntax_message(message, token) when is_binary(message), do: "#{message}#{token}"
  defp syntax_message({prefix, suffix}, token), do: "#{prefix}#{token}#{suffix}"

  defp checked_tree(code, mode) do
    tree = translate(code, mode)

    cond do
      match?({:error, _}, kind(tree)) ->
        {:error, message} = kind(tree)
        {:error, "Analytics.expr(#{Macro.to_string(code)}): #{message}"}

      depth(tree) > @max_depth ->
        {:error, "expression nests deeper than #{@max_depth}"}

      nodes(tree) > @max_nodes ->
        {:error, "expression has more than #{@max_nodes} nodes"}

      true ->
        {:ok, tree, tree |> collect_variables([]) |> Enum.uniq() |> Enum.sort()}
    end
  catch
    {:unsupported, code} ->
      pinned = if mode == :compile, do: "^pinned values, ", else: ""

      {:error,
       "Analytics.expr does not support #{Macro.to_string(code)}; it takes variables, numbers, " <>
         pinned <>
         "+ - * / ** abs sqrt log log10 exp pow min max floor ceil round div rem, " <>
         "< <= > >= == != is_nan is_infinite is_finite, and/or/not, if(c, a, b)"}
  end

  # The NIF's bounds (c_src/nif/expression_terms.cpp), checked here too so
  # that parse/1 refuses what no call could run. The root is at depth 0.
  defp depth({leaf, _}) when leaf in [:constant, :variable], do: 0
  defp depth(node), do: 1 + (node |> children() |> Enum.map(&depth/1) |> Enum.max())

  defp nodes({leaf, _}) when leaf in [:constant, :variable], do: 1
  defp nodes(node), do: 1 + (node |> children() |> Enum.map(&nodes/1) |> Enum.sum())

  defp children(node), do: node |> Tuple.to_list() |> tl()

  defp translate({name, _, context}, _mode) when is_atom(name) and is_atom(context),
    do: {:variable, name}

  defp translate(number, _mode) when is_number(number), do: {:constant, constant!(number)}
  defp translate(atom, _mode) when atom in @non_finite, do: {:constant, atom}

  defp translate({:^, _, [value]}, :compile) do
    {:constant, {:unquote, [], [quote(do: Analytics.Expr.constant!(unquote(value)))]}}
  end

  defp translate({:+, _, [operand]}, mode), do: translate(operand, mode)

  defp translate({op, _, [operand]}, mode) when is_map_key(@unary, op),
    do: {@unary[op], translate(operand, mode)}

  defp translate({op, _, [left, right]}, mode) when is_map_key(@binary, op),
    do: {@binary[op], translate(left, mode), translate(right, mode)}

  defp translate({:if, meta, [condition, [do: if_true, else: if_false]]}, mode),
    do: translate({:if, meta, [condition, if_true, if_false]}, mode)

  defp translate({name, _, args} = code, mode) when is_atom(name) and is_list(args) do
    case @functions[{name, length(args)}] do
      nil -> throw({:unsupported, code})
      op -> List.to_tuple([op | Enum.map(args, &translate(&1, mode))])
    end
  end

  defp translate(code, _mode), do: throw({:unsupported, code})

  defp kind({leaf, _}) when leaf in [:variable, :constant], do: :number

  defp kind({op, _} = node) when op in @logical, do: operands(node, :predicate, :predicate)
  defp kind({op, _, _} = node) when op in @logical, do: operands(node, :predicate, :predicate)
  defp kind({op, _} = node) when op in @predicates, do: operands(node, :number, :predicate)
  defp kind({op, _, _} = node) when op in @predicates, do: operands(node, :number, :predicate)

  defp kind({:select, condition, if_true, if_false}) do
    case {kind(condition), kind(if_true), kind(if_false)} do
      {{:error, _} = error, _, _} ->
        error

      {_, {:error, _} = error, _} ->
        error

      {_, _, {:error, _} = error} ->
        error

      {:number, _, _} ->
        {:error, "if takes a comparison as its condition, got a number"}

      {:predicate, same, same} ->
        same

      {:predicate, a, b} ->
        {:error, "if takes two branches of one kind, got #{article(a)} and #{article(b)}"}
    end
  end

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
  # A constant, checked when the expression is built: an integer beyond the
  # signed 64-bit range becomes the nearest float, or an infinity past the
  # float range (as the column types cannot hold it).
  @spec constant!(term()) :: number() | :nan | :infinity | :neg_infinity
  def constant!(value) when is_integer(value) and value in @i64_min..@i64_max, do: value
  def constant!(value) when is_integer(value), do: integer_to_float(value)
  def constant!(value) when is_float(value) or value in @non_finite, do: value

  def constant!(value) do
    raise ArgumentError,
          "a pinned value in Analytics.expr must be a number, :nan, :infinity or :neg_infinity, " <>
            "got: #{inspect(value)}"
  end

  defp integer_to_float(value) do
    :erlang.float(value)
  rescue
    ArgumentError -> if value > 0, do: :infinity, else: :neg_infinity
  end

  @doc false
  # Said wherever a name is not a column: in Analytics.expr a bare name is a
  # column, so an Elixir variable meant as a value needs ^.
  @spec pin_hint([atom()]) :: String.t()
  def pin_hint([name | _]) when is_atom(name) do
    "; if #{name} is an Elixir variable, pin it to use its value: Analytics.expr(... ^#{name} ...)"
  end

  def pin_hint(_names), do: ""

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
        raise ArgumentError,
              "expression variable #{inspect(name)} is not bound to a column#{pin_hint([name])}"
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
