defmodule Analytics.SimdPathsTest do
  # ANALYTICS_SIMD is read once per VM, so each kernel build this CPU supports
  # is checked in a child VM of its own, against this VM's answers.
  use ExUnit.Case, async: true
  import Analytics.Approx

  @reducers [:sum, :min, :max, :mean, :variance, :product, :argmax, :median, :n_distinct]

  @script """
  :rand.seed(:exsss, {1, 2, 3})
  floats = for _ <- 1..100_003, do: :rand.uniform() * 2.0 - 1.0
  ints = for _ <- 1..100_003, do: :rand.uniform(1 <<< 62) - (1 <<< 61)
  slice = Analytics.Series.slice(Analytics.Series.from_list(floats), 3, 99_999)
  result = %{
    info: Analytics.info().simd,
    floats: Analytics.reduce(floats, REDUCERS),
    ints: Analytics.reduce(ints, REDUCERS -- [:product]),
    slice: Analytics.reduce(slice, REDUCERS)
  }
  IO.write(Base.encode64(:erlang.term_to_binary(result)))
  """

  defp run_child(simd) do
    script = String.replace(@script, "REDUCERS", inspect(@reducers))
    args = ["-pa", Mix.Project.compile_path(), "-e", "import Bitwise\n" <> script]
    System.cmd("elixir", args, env: [{"ANALYTICS_SIMD", simd}], stderr_to_stdout: true)
  end

  # On a CPU with only the baseline path there is nothing to compare: the
  # test is skipped, and the run's summary says so, rather than passing
  # with no comparison made.
  @paths Analytics.info().simd_supported
  if length(@paths) < 2 do
    @skip_reason "this CPU has only the #{inspect(@paths)} SIMD path: nothing to compare it with"
    IO.puts(:stderr, "\nAnalytics.SimdPathsTest: skipping the comparison: #{@skip_reason}")
    @tag skip: @skip_reason
  end

  test "every supported SIMD path gives the same answers" do
    assert length(@paths) >= 2

    results =
      for simd <- @paths do
        {output, 0} = run_child(Atom.to_string(simd))
        result = output |> Base.decode64!() |> :erlang.binary_to_term()
        assert result.info == simd
        result
      end

    [reference | others] = results

    for other <- others, key <- [:floats, :ints, :slice], {reducer, value} <- other[key] do
      assert_close(
        value,
        reference[key][reducer],
        "#{other.info} #{key} #{inspect(reducer)}",
        1.0e-9,
        1.0e-9
      )
    end
  end

  test "a cap above the CPU falls back to the widest it has" do
    {output, 0} = run_child("avx512")

    assert :erlang.binary_to_term(Base.decode64!(output)).info ==
             List.last(Analytics.info().simd_supported)
  end

  test "a bad ANALYTICS_SIMD value is a clear error" do
    {output, status} = run_child("sse9")
    assert status != 0
    assert output =~ "ANALYTICS_SIMD must be baseline, avx2 or avx512, got: sse9"
  end
end
