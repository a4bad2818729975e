defmodule Analytics.PeerData do
  @moduledoc "Data each node of the distributed tests builds for itself (compiled, so peers can load it)."
  alias Analytics.Series

  @doc "This node's slice of a seeded dataset."
  def local_series, do: series(part(node()))

  @doc "The slice a node named `node` builds."
  def series(part) do
    :rand.seed(:exsss, {part, 5, 8})
    Series.from_list(for(_ <- 1..50_000, do: :rand.normal() * 10 + part))
  end

  @doc "A stable number per node name."
  def part(node), do: node |> Atom.to_string() |> :erlang.phash2(100)
end
