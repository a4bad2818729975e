defmodule AnalyticsService.JSON do
  @moduledoc """
  JSON through Debian's jiffy. Results hold plain numbers, and the atoms
  `:nan`, `:infinity` and `:neg_infinity` where IEEE values come out; JSON
  has no such numbers, so they are sent as the strings `"nan"`,
  `"infinity"` and `"neg_infinity"`. `nil` is `null`.
  """
  alias AnalyticsService.BadRequest

  @max_body_bytes 65_536

  @spec encode!(term()) :: iodata()
  def encode!(term), do: term |> nulls() |> :jiffy.encode()

  # jiffy's null is the atom :null; Elixir's nil would become "nil".
  defp nulls(nil), do: :null
  defp nulls(%{} = map) when not is_struct(map), do: Map.new(map, fn {k, v} -> {k, nulls(v)} end)
  defp nulls(list) when is_list(list), do: Enum.map(list, &nulls/1)
  defp nulls(other), do: other

  @doc """
  A request body as a map (JSON `null` is `nil`), or
  `AnalyticsService.BadRequest`: 413 over #{@max_body_bytes} bytes, 400 when
  it is not a JSON object.
  """
  @spec decode_object!(binary()) :: map()
  def decode_object!(body) when byte_size(body) > @max_body_bytes do
    raise BadRequest,
      status: 413,
      message: "the request body is #{byte_size(body)} bytes; the limit is #{@max_body_bytes}"
  end

  def decode_object!(body) do
    case decode!(body) do
      %{} = object -> object
      _other -> raise BadRequest, "the request body must be a JSON object"
    end
  end

  defp decode!(body) do
    :jiffy.decode(body, [:return_maps, null_term: nil])
  catch
    :error, {position, reason} when is_integer(position) ->
      raise BadRequest, "malformed JSON at byte #{position}: #{reason}"

    # jiffy's {:range, _}: a number beyond the float range, like 1e400.
    :error, {:range, _} ->
      raise BadRequest, "a number in the request body is out of range"

    :error, _other ->
      raise BadRequest, "malformed JSON"
  end
end
