defmodule Analytics.TermFuzzTest do
  # Random terms, and valid ones with a random part swapped in, through every
  # public entry point that decodes terms in the NIF (lists, binaries, dtypes,
  # reducer specs, expression trees, states) and through the Redis URL
  # parser. The answer must be a result or an ArgumentError: never a crash or
  # another exception. scripts/test.sh also runs this against the sanitized
  # NIF, where a memory error in a term decoder aborts the VM.
  use ExUnit.Case, async: true
  alias Analytics.{Expr, Redis, Series, State}

  @runs 2_000
  @atoms [:nan, :infinity, :neg_infinity, :sum, :mean, :quantile, :variance, :ddof, :f64, :i64] ++
           [:column, :constant, :variable, :add, :less, :and, :not, :abs, :x, :y, nil, true]

  defp term(0), do: leaf()

  defp term(depth) do
    case :rand.uniform(8) do
      1 -> for _ <- 1..:rand.uniform(4), do: term(depth - 1)
      2 -> List.to_tuple(for _ <- 1..:rand.uniform(4), do: term(depth - 1))
      3 -> [term(depth - 1) | term(depth - 1)]
      4 -> %{term(0) => term(depth - 1)}
      _ -> leaf()
    end
  end

  defp leaf do
    case :rand.uniform(9) do
      1 -> Enum.random([0, 1, -1, 2 ** 63, -(2 ** 63) - 1, 2 ** 64 + 7, 1_000_000_000_000])
      2 -> Enum.random([0.5, -1.0e308, 5.0e-324, 1.0])
      3 -> Enum.random(@atoms)
      4 -> :crypto.strong_rand_bytes(:rand.uniform(40) - 1)
      5 -> Series.from_list([1.0, 2.0, 3.0])
      6 -> self()
      7 -> make_ref()
      8 -> []
      9 -> {}
    end
  end

  # A valid expression tree with one node replaced by a random term.
  defp mutated_tree do
    tree = {:add, {:multiply, {:variable, :x}, {:constant, 2}}, {:abs, {:variable, :y}}}
    path = Enum.take_random([1, 2], :rand.uniform(2))
    put_in_tree(tree, path, term(2))
  end

  defp put_in_tree(_node, [], replacement), do: replacement

  defp put_in_tree(node, [index | rest], replacement)
       when is_tuple(node) and tuple_size(node) > index,
       do: put_elem(node, index, put_in_tree(elem(node, index), rest, replacement))

  defp put_in_tree(_node, _path, replacement), do: replacement

  defp only_argument_errors(context, fun) do
    fun.()
  rescue
    error in ArgumentError -> names_the_problem(context, error)
    other -> flunk("#{context}: #{inspect(other.__struct__)}: #{Exception.message(other)}")
  end

  # A bare :badarg (from a NIF or a BIF) reaches Elixir as an ArgumentError
  # too, with one of these messages, which name nothing.
  defp names_the_problem(context, %ArgumentError{message: message}) do
    bare = message == "argument error" or message =~ "errors were found at the given arguments"
    if bare, do: flunk("#{context}: a bare badarg: #{message}")
    :ok
  end

  test "random terms into every term decoder give a result or an ArgumentError" do
    columns = %{x: Series.from_list([1.0, -2.0, 3.0]), y: Series.from_list([4.0, 5.0, :nan])}

    for run <- 1..@runs do
      :rand.seed(:exsss, {run, 5, 2026})
      [a, b, c, d] = for _ <- 1..4, do: term(3)
      expression = %Expr{tree: Enum.random([term(3), mutated_tree()]), variables: [:x, :y]}
      context = "run #{run}"

      only_argument_errors("#{context} reduce", fn -> Analytics.reduce(a, b) end)

      only_argument_errors("#{context} reduce list", fn ->
        Analytics.reduce([1.0, 2.0], [b, c])
      end)

      only_argument_errors("#{context} map", fn -> Analytics.map(columns, expression) end)

      only_argument_errors("#{context} fused", fn ->
        Analytics.reduce(columns, [:sum], map: expression, where: expression)
      end)

      only_argument_errors("#{context} group", fn -> Analytics.group_reduce(a, b, c) end)
      only_argument_errors("#{context} bucket", fn -> Analytics.bucket_reduce(a, b, c, d) end)
      only_argument_errors("#{context} partial", fn -> Analytics.partial(a, b) end)
      only_argument_errors("#{context} from_list", fn -> Series.from_list(a, b) end)
      only_argument_errors("#{context} from_binary", fn -> Series.from_binary(a, b) end)
      only_argument_errors("#{context} slice", fn -> Series.slice(a, b, c) end)
      only_argument_errors("#{context} concat", fn -> Series.concat(a) end)
      only_argument_errors("#{context} cast", fn -> Series.cast(a, b) end)
    end
  end

  test "states with random sketch bytes merge and finalize or raise ArgumentError" do
    {:ok, state} =
      {:ok, Analytics.partial([1.0, 2.0, 3.0], [:approx_n_distinct, {:approx_quantile, 0.5}])}

    for run <- 1..@runs do
      :rand.seed(:exsss, {run, 6, 2026})
      hll = :crypto.strong_rand_bytes(:rand.uniform(64))

      broken =
        case :rand.uniform(3) do
          1 -> %State{state | hll: hll}
          2 -> %State{state | dd: term(2)}
          3 -> Map.put(state, Enum.random(Map.keys(state) -- [:__struct__]), term(2))
        end

      only_argument_errors("run #{run} merge", fn -> Analytics.merge([state, broken]) end)
      only_argument_errors("run #{run} finalize", fn -> Analytics.finalize(broken) end)
    end
  end

  test "random URLs are parsed or refused with ArgumentError, never echoing a password" do
    alphabet = String.graphemes("redis:/@:1234567890abc%[]?#.-_ ") ++ ["\n", "\0", "é"]

    for run <- 1..@runs do
      :rand.seed(:exsss, {run, 7, 2026})
      tail = Enum.map_join(1..:rand.uniform(30), fn _ -> Enum.random(alphabet) end)
      url = Enum.random(["redis://", "redis://user:sekrit@", "", "http://"]) <> tail

      try do
        # Port 1 on loopback refuses at once: a URL that parses fails to connect.
        case Redis.start_link(url: url, port: 1, host: "127.0.0.1", timeout: 200) do
          {:error, _} -> :ok
          {:ok, conn} -> Redis.stop(conn)
        end
      rescue
        error in ArgumentError ->
          refute Exception.message(error) =~ "sekrit", url
          names_the_problem(url, error)
      end
    end
  end
end
