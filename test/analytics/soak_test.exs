defmodule Analytics.SoakTest do
  # A long mixed run: reductions, fused queries, Redis fetches, timeouts,
  # callers killed mid-call and server restarts, from many processes at once.
  # Afterwards nothing may be left: no native column, no pending request, no
  # engine, no hung caller, and the VM's memory back within a bound.
  #
  #   mix test --only soak                     1,000,000 calls
  #   SOAK_CALLS=50000 mix test --only soak    the short variant scripts/test.sh runs
  use ExUnit.Case, async: false
  import Analytics.Eventually
  require Analytics
  alias Analytics.{HostileRedis, Redis, RedisServer, Reference, Series}

  @moduletag :soak
  # Long, but bounded: a caller stuck for good fails the run instead of
  # hanging CI (the 1,000,000-call default takes about 30 s here).
  @moduletag timeout: 600_000
  @workers 8
  # The VM's own memory may grow this much (code loaded, ETS, allocator
  # caches); a leak of one column per call would be orders of magnitude more.
  @memory_bound_bytes 64 * 1024 * 1024
  # What a full fetch of "numbers" (1..1,000) reduces to.
  @numbers %{sum: 500_500.0, count: 1_000}

  test "a million mixed calls leave nothing behind" do
    calls = String.to_integer(System.get_env("SOAK_CALLS", "1000000"))
    server = RedisServer.start!()
    fill(server)
    settle()
    before = Analytics.native_counters()
    memory_before = :erlang.memory(:total)
    shared = Series.from_list(for i <- 1..10_000, do: i * 0.5)

    {:ok, conn} = Redis.start_link(url: RedisServer.url(server))
    {:ok, slow} = Redis.start_link(url: RedisServer.url(server))
    # A server that reads commands and never answers: a caller killed while
    # its fetch waits there is certainly killed in flight, restarts or not.
    silent_server = HostileRedis.start!({:reply, "+PONG\r\n"})
    on_exit(fn -> HostileRedis.stop(silent_server) end)
    {:ok, silent} = Redis.start_link(url: HostileRedis.url(silent_server), sync_connect: true)
    HostileRedis.set_mode(silent_server, :silent)
    side = %{slow: slow, silent: silent}
    started = System.monotonic_time(:millisecond)

    workers =
      for worker <- 1..@workers,
          do: Task.async(fn -> work(worker, div(calls, @workers), conn, side, shared) end)

    # Meanwhile, from here (where test clean-up must be registered): Redis
    # is killed, restarted and refilled every 0.5 s until a worker is done.
    restarts = restart_until_done(server, workers, 0)

    outcomes =
      workers
      |> Enum.map(&Task.await(&1, :infinity))
      |> Enum.reduce(%{}, fn counts, acc -> Map.merge(acc, counts, fn _, a, b -> a + b end) end)

    seconds = (System.monotonic_time(:millisecond) - started) / 1000
    Redis.stop(conn)
    Redis.stop(slow)
    Redis.stop(silent)

    # Everything the run made is garbage now: collect it and look.
    assert wait_until(fn ->
             settle()
             after_run = Analytics.native_counters()

             after_run.redis_requests == 0 and after_run.redis_engines == 0 and
               after_run.column_buffers == before.column_buffers + 1
           end),
           "left behind: #{inspect(Analytics.native_counters())} (before: #{inspect(before)})"

    growth = :erlang.memory(:total) - memory_before

    IO.puts(
      "\nsoak: #{calls} calls by #{@workers} processes in #{Float.round(seconds, 1)} s, " <>
        "#{restarts} Redis restarts; " <>
        "outcomes #{inspect(outcomes)}; native before #{inspect(before)}, after " <>
        "#{inspect(Analytics.native_counters())}; VM memory growth #{div(growth, 1024)} KiB"
    )

    assert growth < @memory_bound_bytes
    # Every answer was right or a known error (calls made while Redis
    # restarts fail fast with :closed, so the shares vary).
    wrong = for {{:wrong, got}, n} <- outcomes, do: {n, got}
    assert wrong == [], "wrong answers: #{inspect(Enum.take(wrong, 5))}"

    known =
      [:reduced, :redis_ok, :redis_empty, :killed, :killed_in_flight] ++
        for(r <- [:closed, :disconnected, :timeout], do: {Redis.ConnectionError, r})

    assert Map.keys(outcomes) -- known == []
    # Redis answered for real, and callers were killed with requests in flight.
    assert Map.get(outcomes, :redis_ok, 0) > 0
    assert Map.get(outcomes, :killed_in_flight, 0) > 0

    assert restarts > 0 or seconds < 1
    # The shared series, read by every worker, still holds what it held.
    assert Analytics.reduce(shared, [:sum, :count]) == %{sum: 25_002_500.0, count: 10_000}
  end

  defp work(worker, calls, conn, side, shared) do
    :rand.seed(:exsss, {worker, 7, 7})

    Enum.reduce(1..calls, %{}, fn i, counts ->
      outcome = call(rem(i, 10), i, conn, side, shared)
      Map.update(counts, outcome, 1, &(&1 + 1))
    end)
  end

  # Each call's answer is checked, so a native side that answered wrongly
  # (or answered a caller with another's reply) shows as a :wrong outcome.
  defp call(0, _i, _conn, _side, _shared) do
    values = for _ <- 1..Enum.random(1..200), do: :rand.uniform()
    got = Analytics.reduce(values, [:sum, :median, :n_distinct])

    right?(
      got.n_distinct == length(values) and close?(got.sum, Reference.reduce(values, :sum)) and
        got.median == Reference.reduce(values, :median),
      :reduced,
      got
    )
  end

  # shared is 0.5, 1.0, ... 5000.0: x > 100 keeps 100.5..5000.0, doubled 201..10000.
  defp call(1, _i, _conn, _side, shared) do
    got =
      Analytics.reduce(shared, [:mean, {:approx_quantile, 0.9}],
        map: Analytics.expr(x * 2),
        where: Analytics.expr(x > 100)
      )

    right?(
      got.mean == 5100.5 and abs(got[{:approx_quantile, 0.9}] - 9020.0) < 9020.0 * 0.02,
      :reduced,
      got
    )
  end

  defp call(2, _i, _conn, _side, shared) do
    offset = Enum.random(0..9_000)
    got = shared |> Series.slice(offset, 1_000) |> Series.cast(:i64) |> Analytics.reduce(:sum)
    right?(got == Enum.sum(for i <- (offset + 1)..(offset + 1_000), do: div(i, 2)), :reduced, got)
  end

  # A slow command that times out: the reply comes later and is dropped.
  defp call(3, i, _conn, side, _shared) when rem(i, 100) == 3 do
    case Redis.command(side.slow, ["BLPOP", "nothing", "0.01"], timeout: 1) do
      {:ok, nil} -> :redis_ok
      other -> classify(other)
    end
  end

  # A caller killed while its fetch is in flight, against the real server
  # (whose reply may come later, to be dropped) or the silent one (where it
  # waits for good). It is killed once it waits for its reply, so its request
  # is in the engine, or earlier if the real server answered first or was
  # down; the test asserts some were killed in flight.
  defp call(4, i, conn, side, _shared) when rem(i, 100) == 4 do
    target = if rem(i, 200) == 4, do: side.silent, else: conn

    {pid, ref} =
      spawn_monitor(fn ->
        Redis.fetch(target, {:lrange, "numbers", 0, -1, :f64}, timeout: 60_000)
      end)

    in_flight = waiting_for_reply?(pid, 1_000)
    Process.exit(pid, :kill)
    receive do: ({:DOWN, ^ref, _, _, _} -> if(in_flight, do: :killed_in_flight, else: :killed))
  end

  # Between a restart and the refill a key may be missing (read as empty).
  defp call(5, _i, conn, _side, _shared) do
    case Redis.fetch_many(conn, [{:get, "packed", :i64}, {:lrange, "numbers", 0, 99, :f64}]) do
      {:ok, [%Series{} = packed, %Series{} = numbers]} ->
        packed = Series.to_list(packed)
        numbers = Series.to_list(numbers)

        cond do
          packed not in [[], Enum.to_list(1..1_000)] -> {:wrong, packed}
          numbers not in [[], Enum.map(1..100, &(&1 * 1.0))] -> {:wrong, numbers}
          packed == [] or numbers == [] -> :redis_empty
          true -> :redis_ok
        end

      other ->
        classify(other)
    end
  end

  defp call(_n, _i, conn, _side, _shared) do
    case Redis.fetch(conn, {:lrange, "numbers", 0, -1, :f64}) do
      {:ok, series} ->
        case Series.size(series) do
          0 -> :redis_empty
          _ -> right?(Analytics.reduce(series, [:sum, :count]) == @numbers, :redis_ok, series)
        end

      other ->
        classify(other)
    end
  end

  defp right?(true, outcome, _got), do: outcome
  defp right?(false, _outcome, got), do: {:wrong, got}

  defp close?(a, b), do: abs(a - b) <= 1.0e-9 * max(abs(a), abs(b))

  defp waiting_for_reply?(pid, tries) do
    case Process.info(pid, [:status, :current_function]) do
      [status: :waiting, current_function: {Redis, _, _}] -> true
      nil -> false
      _ when tries > 0 -> :erlang.yield() && waiting_for_reply?(pid, tries - 1)
      _ -> false
    end
  end

  defp classify({:error, %{__struct__: module} = error}), do: {module, Map.get(error, :reason)}
  defp classify(other), do: {:wrong, other}

  defp restart_until_done(server, workers, restarts) do
    Process.sleep(500)

    if Enum.all?(workers, &Process.alive?(&1.pid)) do
      RedisServer.stop(server)
      server = RedisServer.restart!(server)
      fill(server)
      restart_until_done(server, workers, restarts + 1)
    else
      restarts
    end
  end

  defp fill(server) do
    {:ok, conn} = Redis.start_link(url: RedisServer.url(server))

    {:ok, _} =
      Redis.command(conn, ["RPUSH", "numbers" | Enum.map(1..1_000, &Integer.to_string/1)])

    packed = for i <- 1..1_000, into: <<>>, do: <<i::signed-native-64>>
    {:ok, "OK"} = Redis.command(conn, ["SET", "packed", packed])
    Redis.stop(conn)
  end

  defp settle do
    for pid <- Process.list(), do: :erlang.garbage_collect(pid)
    :ok
  end
end
