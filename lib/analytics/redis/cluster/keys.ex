defmodule Analytics.Redis.Cluster.Keys do
  # Where a command's first key is, learnt from the server's COMMAND reply
  # (so it is right for the server's own version), to route the command to
  # the master owning that key's slot. Only the first key matters: a command
  # whose keys live in several slots gets Redis's own CROSSSLOT error.
  @moduledoc false

  @type table :: %{optional(binary()) => position()}
  @type position ::
          {:at, pos_integer()}
          | :none
          | :numkeys
          | :ask_server
          | {:subcommands, %{optional(binary()) => position()}}

  # Scripts and functions: `EVAL script numkeys key ...`; numkeys 0 means
  # keyless.
  @numkeys ~w(eval evalsha eval_ro evalsha_ro fcall fcall_ro)

  @doc "The table of a COMMAND reply."
  @spec table(list()) :: table()
  def table(reply) when is_list(reply) do
    for [name | _] = entry <- reply, is_binary(name), reduce: %{} do
      table ->
        position = position(entry)
        table |> Map.put(name, position) |> Map.put(String.upcase(name), position)
    end
  end

  defp position([name, _arity, flags, first | rest] = entry) when is_integer(first) do
    subcommands = Enum.at(entry, 9, [])

    cond do
      name in @numkeys ->
        :numkeys

      is_list(subcommands) and subcommands != [] ->
        {:subcommands,
         Map.new(subcommands, fn [sub | _] = sub_entry ->
           {sub |> String.split("|") |> List.last(), position(sub_entry)}
         end)}

      first > 0 ->
        {:at, first}

      is_list(flags) and "movablekeys" in flags and rest != [] ->
        :ask_server

      true ->
        :none
    end
  end

  defp position(_entry), do: :none

  @doc """
  The first key of `args` (a command's arguments, its name first):
  `{:key, key}`, `:none` for a keyless command (or one the server does not
  know: any node answers it), or `:ask_server` when only COMMAND GETKEYS can
  tell (commands whose keys follow a count, such as ZUNION or XREAD).
  """
  @spec first_key(table(), [binary()]) :: {:key, binary()} | :none | :ask_server
  def first_key(table, [name | args]) do
    case Map.get(table, name) || Map.get(table, String.downcase(name)) do
      nil -> :none
      position -> key_at(position, [name | args])
    end
  end

  defp key_at({:at, index}, args), do: nth(args, index)
  defp key_at(:none, _args), do: :none
  defp key_at(:ask_server, _args), do: :ask_server

  defp key_at(:numkeys, [_name, _script, numkeys | keys]) do
    case Integer.parse(numkeys) do
      {n, ""} when n > 0 and keys != [] -> {:key, hd(keys)}
      _ -> :none
    end
  end

  defp key_at(:numkeys, _args), do: :none

  defp key_at({:subcommands, subs}, [name, sub | rest]) do
    case Map.get(subs, String.downcase(sub)) do
      nil -> :none
      position -> key_at(position, [name, sub | rest])
    end
  end

  defp key_at({:subcommands, _subs}, _args), do: :none

  defp nth(args, index) do
    case Enum.drop(args, index) do
      [key | _] -> {:key, key}
      [] -> :none
    end
  end
end
