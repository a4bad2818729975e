defmodule Analytics.Redis.Cluster.SlotMap do
  # Which master serves each hash slot, read from CLUSTER SHARDS (Redis 7)
  # or CLUSTER SLOTS (older servers), and the slot-to-node tuple that
  # callers index without copying.
  @moduledoc false

  alias Analytics.Redis.Cluster.HashSlot

  @type address :: {String.t(), :inet.port_number()}
  @type t :: %{
          ranges: [{0..16383, 0..16383, address()}],
          masters: [address()],
          nodes: [address()]
        }

  @doc """
  The slot map of a CLUSTER SHARDS reply; `{:error, why}` when the reply is
  not one. `host` is the queried node's, for nodes that leave their
  endpoint empty. With `tls: true`, a node's `tls-port` is the one to use.
  """
  @spec from_shards(term(), String.t(), boolean()) :: {:ok, t()} | {:error, String.t()}
  def from_shards(reply, host, tls \\ false)

  def from_shards(reply, host, tls) when is_list(reply) do
    shards = Enum.map(reply, &shard!(&1, host, tls))

    ranges =
      for {slots, nodes} <- shards,
          master = master(nodes),
          master != nil,
          {first, last} <- slots,
          do: {first, last, master}

    checked(ranges, Enum.flat_map(shards, fn {_, nodes} -> Enum.map(nodes, &elem(&1, 0)) end))
  catch
    :bad -> {:error, "not a CLUSTER SHARDS reply"}
  end

  def from_shards(_reply, _host, _tls), do: {:error, "not a CLUSTER SHARDS reply"}

  @doc "The slot map of a CLUSTER SLOTS reply."
  @spec from_slots(term(), String.t()) :: {:ok, t()} | {:error, String.t()}
  def from_slots(reply, host) when is_list(reply) do
    entries =
      Enum.map(reply, fn
        [first, last, master | replicas] when is_integer(first) and is_integer(last) ->
          {first, last, slots_node!(master, host), Enum.map(replicas, &slots_node!(&1, host))}

        _ ->
          throw(:bad)
      end)

    checked(
      for({first, last, master, _} <- entries, do: {first, last, master}),
      Enum.flat_map(entries, fn {_, _, master, replicas} -> [master | replicas] end)
    )
  catch
    :bad -> {:error, "not a CLUSTER SLOTS reply"}
  end

  def from_slots(_reply, _host), do: {:error, "not a CLUSTER SLOTS reply"}

  @doc """
  The tuple of 16384 entries, each the index in `masters` of the slot's
  master, or nil for a slot no master serves.
  """
  @spec slot_tuple(t()) :: tuple()
  def slot_tuple(%{ranges: ranges, masters: masters}) do
    index = masters |> Enum.with_index() |> Map.new()

    {parts, next} =
      ranges
      |> Enum.sort()
      |> Enum.reduce({[], 0}, fn {first, last, master}, {parts, next} ->
        {[
           List.duplicate(index[master], last - first + 1),
           List.duplicate(nil, first - next) | parts
         ], last + 1}
      end)

    [List.duplicate(nil, HashSlot.count() - next) | parts]
    |> Enum.reverse()
    |> List.flatten()
    |> List.to_tuple()
  end

  # Ranges within 0..16383 that do not overlap.
  defp checked(ranges, nodes) do
    sorted = Enum.sort(ranges)

    ok? =
      Enum.all?(sorted, fn {first, last, _} -> first in 0..16383 and last in first..16383 end) and
        sorted
        |> Enum.chunk_every(2, 1, :discard)
        |> Enum.all?(fn [{_, last, _}, {next, _, _}] -> next > last end)

    if ok? and sorted != [] do
      masters = sorted |> Enum.map(&elem(&1, 2)) |> Enum.uniq()
      {:ok, %{ranges: sorted, masters: masters, nodes: Enum.uniq(masters ++ nodes)}}
    else
      {:error, "its slot ranges are missing, overlap or fall outside 0..16383"}
    end
  end

  # {[{first, last}], [{address, role, health}]}
  defp shard!(shard, host, tls) when is_list(shard) do
    fields = pairs!(shard)
    slots = Map.get(fields, "slots", [])
    nodes = Map.get(fields, "nodes", [])
    unless is_list(slots) and is_list(nodes), do: throw(:bad)
    {slot_pairs!(slots), Enum.map(nodes, &shard_node!(&1, host, tls))}
  end

  defp shard!(_shard, _host, _tls), do: throw(:bad)

  defp slot_pairs!([first, last | rest]) when is_integer(first) and is_integer(last),
    do: [{first, last} | slot_pairs!(rest)]

  defp slot_pairs!([]), do: []
  defp slot_pairs!(_other), do: throw(:bad)

  defp shard_node!(node, host, tls) when is_list(node) do
    fields = pairs!(node)

    port =
      if tls,
        do: fields["tls-port"] || fields["port"],
        else: fields["port"] || fields["tls-port"]

    unless is_integer(port), do: throw(:bad)
    endpoint = endpoint(fields["endpoint"], fields["ip"], host)
    {{endpoint, port}, fields["role"], fields["health"]}
  end

  defp shard_node!(_node, _host, _tls), do: throw(:bad)

  # The serving master of a shard: an online one if there is one.
  defp master(nodes) do
    masters = for {address, "master", health} <- nodes, do: {address, health}

    case Enum.find(masters, &(elem(&1, 1) == "online")) || List.first(masters) do
      {address, _health} -> address
      nil -> nil
    end
  end

  defp slots_node!([ip, port | _], host) when is_binary(ip) and is_integer(port),
    do: {endpoint(ip, ip, host), port}

  defp slots_node!(_node, _host), do: throw(:bad)

  # "?" or "" mean the node does not know its own address: the queried
  # node's host is the best guess.
  defp endpoint(endpoint, ip, host) do
    cond do
      is_binary(endpoint) and endpoint not in ["", "?"] -> endpoint
      is_binary(ip) and ip not in ["", "?"] -> ip
      true -> host
    end
  end

  defp pairs!(list) do
    list
    |> Enum.chunk_every(2)
    |> Map.new(fn
      [key, value] when is_binary(key) -> {key, value}
      _ -> throw(:bad)
    end)
  end
end
