defmodule Analytics.Distributed do
  @moduledoc """
  Reductions across BEAM nodes: each node reduces its own data to a
  mergeable `Analytics.State`, and the caller merges and finalizes them.

  Only the states travel (a few numbers, plus at most a few KiB per
  sketch), never the data. The nodes must run this library and be connected
  by distributed Erlang; calls go through `:erpc`.

  ## Examples

      Analytics.Distributed.reduce(
        [node() | Node.list()],
        {MyApp.Metrics, :latency_series, ["checkout"]},
        [:count, :mean, {:approx_quantile, 0.99}]
      )
      #=> {:ok, %{:count => 3_000_000, :mean => 41.7, {:approx_quantile, 0.99} => 212.4}}
  """

  alias Analytics.Reducers

  @doc """
  Runs `apply(m, f, a)` on every node to get its input (a Series, a list or
  a map of columns), reduces it there with `Analytics.partial/3`, and merges
  the states here, treating the nodes' data as consecutive pieces in the
  order of `nodes` (so `:argmin`/`:argmax` are positions in that
  concatenation).

  Every reducer must merge (see `Analytics.partial/3`); use
  `:approx_n_distinct` and `{:approx_quantile, q}` for distinct counts and
  quantiles.

  ## Options

    * `:timeout` - milliseconds to wait for all nodes (default 60_000)
    * `:map`, `:where` - as in `Analytics.reduce/3`, applied on each node

  Returns `{:ok, result}`, or `{:error, {node, reason}}` for the first node
  that failed: `reason` is `{:exception, exception}` for an exception raised
  there (bad input on that node included), `:noconnection` for a node that
  cannot be reached, `:timeout`, or `{:exit, reason}`.
  """
  @spec reduce(
          [node(), ...],
          {module(), atom(), list()},
          Analytics.reducer() | [Analytics.reducer(), ...],
          keyword()
        ) ::
          {:ok, Analytics.result() | %{Analytics.reducer() => Analytics.result()}}
          | {:error, {node(), term()}}
  def reduce(nodes, mfa, reducers, opts \\ [])

  def reduce([_ | _] = nodes, {m, f, a} = mfa, reducers, opts)
      when is_atom(m) and is_atom(f) and is_list(a) do
    {timeout, reduce_opts} = Keyword.pop(opts, :timeout, 60_000)
    Keyword.validate!(reduce_opts, [:map, :where])
    specs = Reducers.normalize_all(reducers)
    Enum.each(Enum.zip(List.wrap(reducers), specs), &Reducers.mergeable!/1)

    nodes
    |> :erpc.multicall(__MODULE__, :partial_here, [mfa, reducers, reduce_opts], timeout)
    |> Enum.zip(nodes)
    |> collect([])
  end

  def reduce(nodes, mfa, _reducers, _opts) do
    raise ArgumentError,
          "expected a non-empty list of nodes and an {module, function, args} tuple, got: " <>
            "#{inspect(nodes)} and #{inspect(mfa)}"
  end

  @doc false
  # Runs on each node.
  def partial_here({m, f, a}, reducers, opts),
    do: Analytics.partial(apply(m, f, a), reducers, opts)

  defp collect([], states),
    do: {:ok, states |> Enum.reverse() |> Analytics.merge() |> Analytics.finalize()}

  defp collect([{{:ok, state}, _node} | rest], states), do: collect(rest, [state | states])
  defp collect([{{:error, reason}, node} | _], _states), do: {:error, {node, failure(reason)}}
  defp collect([{{:throw, value}, node} | _], _states), do: {:error, {node, {:throw, value}}}
  defp collect([{{:exit, reason}, node} | _], _states), do: {:error, {node, {:exit, reason}}}

  defp failure({:exception, exception, _stacktrace}), do: {:exception, exception}
  defp failure({:erpc, reason}) when reason in [:noconnection, :timeout], do: reason
  defp failure(other), do: other
end
