defmodule Analytics.DistributedTest do
  # Real BEAM nodes on loopback (:peer), real distribution, one epmd bound to
  # 127.0.0.1 that the test stops if it started it.
  use ExUnit.Case, async: false
  alias Analytics.{PeerData, Series}

  @reducers [:sum, :count, :min, :max, :mean, :variance, :argmax, {:approx_quantile, 0.5}]

  setup_all do
    {_, epmd_was_running} = System.cmd("epmd", ["-names"], stderr_to_stdout: true)
    System.cmd("epmd", ["-daemon", "-address", "127.0.0.1"])
    {:ok, _} = Node.start(:"analytics_primary@127.0.0.1", :longnames)

    peers =
      for name <- [:analytics_peer_a, :analytics_peer_b] do
        args = Enum.flat_map(:code.get_path(), &[~c"-pa", &1])

        {:ok, pid, node} =
          :peer.start(%{name: name, host: ~c"127.0.0.1", longnames: true, args: args})

        {pid, node}
      end

    on_exit(fn ->
      Enum.each(peers, fn {pid, _} -> if Process.alive?(pid), do: :peer.stop(pid) end)
      Node.stop()
      if epmd_was_running != 0, do: System.cmd("epmd", ["-kill"], stderr_to_stdout: true)
    end)

    %{nodes: Enum.map(peers, &elem(&1, 1))}
  end

  test "reducing on every node equals reducing all the data here", %{nodes: [a, b]} do
    {:ok, result} =
      Analytics.Distributed.reduce([a, b, node()], {PeerData, :local_series, []}, @reducers)

    parts = for n <- [a, b, node()], do: PeerData.series(PeerData.part(n))
    whole = Analytics.reduce(Series.concat(parts), @reducers)

    for reducer <- @reducers -- [{:approx_quantile, 0.5}, :argmax] do
      assert_in_delta result[reducer], whole[reducer], 1.0e-9 * max(abs(whole[reducer]), 1)
    end

    assert result[:argmax] == whole[:argmax]
    assert_in_delta result[{:approx_quantile, 0.5}], whole[{:approx_quantile, 0.5}], 0.5
  end

  test "a failure on one node is an error naming it", %{nodes: [a, _b]} do
    assert {:error, {^a, {:exception, %ArgumentError{}}}} =
             Analytics.Distributed.reduce([a], {Analytics.Series, :from_list, [[:bad]]}, :sum)

    assert {:error, {:"nobody@127.0.0.1", :noconnection}} =
             Analytics.Distributed.reduce(
               [:"nobody@127.0.0.1"],
               {PeerData, :local_series, []},
               :sum
             )
  end

  test "bad arguments raise here, before any node is called" do
    assert_raise ArgumentError, ~r/:median cannot be merged/, fn ->
      Analytics.Distributed.reduce([node()], {PeerData, :local_series, []}, :median)
    end

    assert_raise ArgumentError, ~r/non-empty list of nodes/, fn ->
      Analytics.Distributed.reduce([], {PeerData, :local_series, []}, :sum)
    end

    assert_raise ArgumentError, ~r/unknown keys \[:bogus\]/, fn ->
      Analytics.Distributed.reduce([node()], {PeerData, :local_series, []}, :sum, bogus: 1)
    end
  end
end
