defmodule Analytics.DocExamples do
  @moduledoc """
  Runs the Elixir code blocks of a Markdown file, so the README and the
  guides say only what the code does.

  A block with `iex>` prompts is checked as a doctest is: each expression is
  evaluated in turn, with the bindings of the ones before, and compared with
  the lines under it: `** (Exception) message` must be raised; a value shown
  as `#Name<...>` must inspect to the same text; anything else is evaluated
  and must be equal. Any other block must run without raising, so its
  `{:ok, _} = ...` matches are its checks. Each block runs in a process of
  its own, shut down afterwards with the processes it linked to.
  """
  import ExUnit.Assertions

  defstruct [:file, :line, :code]

  @doc "Every ```elixir block of `path`, with the line where its code starts."
  def blocks(path) do
    path
    |> File.read!()
    |> String.split("\n")
    |> Enum.with_index(1)
    |> collect(path, nil, [])
  end

  defp collect([], _path, _open, blocks), do: Enum.reverse(blocks)

  defp collect([{"```elixir", line} | rest], path, nil, blocks),
    do: collect(rest, path, {line + 1, []}, blocks)

  defp collect([{"```", _} | rest], path, {line, lines}, blocks) do
    block = %__MODULE__{file: path, line: line, code: lines |> Enum.reverse() |> Enum.join("\n")}
    collect(rest, path, nil, [block | blocks])
  end

  defp collect([{text, _} | rest], path, {line, lines}, blocks),
    do: collect(rest, path, {line, [text | lines]}, blocks)

  defp collect([_ | rest], path, nil, blocks), do: collect(rest, path, nil, blocks)

  @doc """
  Runs a block after replacing each `{from, to}` of `replacements` in its
  code (say, a Redis URL for the test server's); raises an ExUnit assertion
  error naming the file and line of a failing example.
  """
  def run!(%__MODULE__{} = block, replacements \\ []) do
    code =
      Enum.reduce(replacements, block.code, fn {from, to}, code ->
        String.replace(code, from, to)
      end)

    parent = self()

    {pid, monitor} =
      spawn_monitor(fn ->
        result =
          try do
            run_block(code, block)
            :ok
          rescue
            error -> {:error, error, __STACKTRACE__}
          end

        send(parent, {self(), result})
        # Stay until told to go, so what the block started is still up
        # while the result is read.
        receive do: (:done -> :ok)
      end)

    receive do
      {^pid, result} ->
        Process.exit(pid, :shutdown)
        receive do: ({:DOWN, ^monitor, :process, ^pid, _} -> :ok)

        case result do
          :ok -> :ok
          {:error, error, stacktrace} -> reraise error, stacktrace
        end

      {:DOWN, ^monitor, :process, ^pid, reason} ->
        flunk("#{where(block, 1)}: the block's process died: #{inspect(reason)}")
    end
  end

  defp run_block(code, block) do
    env = Code.env_for_eval(file: block.file, line: block.line)

    cond do
      code =~ ~r/^\s*iex>/m ->
        run_session(code, block, env)

      # A function shown as it goes in a module (say, mix.exs's deps/0).
      code =~ ~r/^def / ->
        eval("defmodule DocExample#{block.line} do\n#{code}\nend", {[], env}, block, block.line)

      true ->
        eval(code, {[], env}, block, block.line)
    end
  end

  # iex> expression (with ...> continuations) followed by the expected lines.
  defp run_session(code, block, env) do
    code
    |> String.split("\n")
    |> Enum.with_index(block.line)
    |> examples([])
    |> Enum.reduce({[], env}, fn {expression, expected, line}, context ->
      check(expression, expected, context, block, line)
    end)
  end

  defp examples([], acc), do: Enum.reverse(acc)

  defp examples([{"iex> " <> expression, line} | rest], acc) do
    {continuation, rest} =
      Enum.split_while(rest, fn {text, _} -> String.starts_with?(text, "...> ") end)

    expression =
      Enum.join([expression | Enum.map(continuation, fn {"...> " <> text, _} -> text end)], "\n")

    {expected, rest} =
      Enum.split_while(rest, fn {text, _} -> not String.starts_with?(text, "iex>") end)

    expected = expected |> Enum.map_join("\n", &elem(&1, 0)) |> String.trim()
    examples(rest, [{expression, expected, line} | acc])
  end

  defp examples([_ | rest], acc), do: examples(rest, acc)

  defp check(expression, "** (" <> _ = expected, context, block, line) do
    [_, module, message] = Regex.run(~r/^\*\* \(([\w.]+)\) (.*)$/s, expected)

    try do
      eval(expression, context, block, line)
    rescue
      error ->
        assert inspect(error.__struct__) == module,
               "#{where(block, line)}: raised #{inspect(error)}"

        assert Exception.message(error) == message, "#{where(block, line)}: the message differs"
        context
    else
      {value, _context} ->
        flunk("#{where(block, line)}: expected #{expected}, got #{inspect(value)}")
    end
  end

  defp check(expression, expected, context, block, line) do
    {value, context} = eval(expression, context, block, line)

    cond do
      expected == "" ->
        :ok

      String.starts_with?(expected, "#") ->
        assert inspect(value) == expected, "#{where(block, line)}: #{expression}"

      true ->
        {wanted, _} = eval(expected, context, block, line)
        assert value == wanted, "#{where(block, line)}: #{expression}\ngot: #{inspect(value)}"
        # Shown as iex shows it: [11, 12, 13] is equal to '\v\f\r', but iex
        # prints the charlist.
        assert squeeze(inspect(value)) == squeeze(expected),
               "#{where(block, line)}: iex shows #{inspect(value)}, not #{expected}"
    end

    context
  end

  defp squeeze(text), do: String.replace(text, ~r/\s+/, " ")

  # Bindings, aliases and requires carry from one expression to the next,
  # as in iex.
  defp eval(code, {binding, env}, block, line) do
    quoted = Code.string_to_quoted!(code, file: block.file, line: line)
    {value, binding, env} = Code.eval_quoted_with_env(quoted, binding, env)
    {value, {binding, env}}
  end

  defp where(block, line), do: "#{block.file}:#{line}"
end
