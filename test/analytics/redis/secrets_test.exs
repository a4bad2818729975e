defmodule Analytics.Redis.SecretsTest do
  # The password never shows: not in an exception's message, not in a
  # formatted stack trace, not in a process state, not in a log event
  # (Elixir's or Erlang's own formatting, supervisor and crash reports too).
  use ExUnit.Case, async: false
  import ExUnit.CaptureLog
  import ExUnit.CaptureIO
  alias Analytics.{Cache, Redis, RedisServer}

  @secret "Zq9-s3cret/p@ss"
  @number_secret 123_456_789

  # Every log event, as Erlang's formatter prints it (~p, not inspect).
  defmodule Collector do
    @moduledoc false
    def log(event, %{config: %{to: pid}}), do: send(pid, {:log_event, event})
  end

  setup do
    id = :"secrets_#{System.unique_integer([:positive])}"
    :ok = :logger.add_handler(id, Collector, %{config: %{to: self()}, level: :all})
    on_exit(fn -> :logger.remove_handler(id) end)
    # Supervisor and crash reports reach handlers only at this level.
    previous = :logger.get_primary_config().level
    :logger.set_primary_config(:level, :all)
    on_exit(fn -> :logger.set_primary_config(:level, previous) end)
    :ok
  end

  # Everything logged so far, formatted both ways, once every pattern in
  # `expected` has matched an event: the reports the test provokes are there
  # (so refuting the secret cannot pass on a log that is merely empty).
  defp logged(expected, acc \\ []) do
    if Enum.all?(expected, fn pattern -> Enum.any?(acc, &(&1 =~ pattern)) end) do
      collect(acc)
    else
      receive do
        {:log_event, event} -> logged(expected, [format_event(event) | acc])
      after
        5_000 -> flunk("no log event matched #{inspect(expected)}; got:\n#{Enum.join(acc, "\n")}")
      end
    end
  end

  defp collect(acc) do
    receive do
      {:log_event, event} -> collect([format_event(event) | acc])
    after
      0 -> Enum.join(acc, "\n")
    end
  end

  defp format_event(event) do
    erlang = :logger_formatter.format(event, %{single_line: false, depth: :unlimited})
    IO.iodata_to_binary(erlang) <> "\n" <> inspect(event, limit: :infinity)
  end

  defp refute_secret(text, secret \\ @secret) do
    refute text =~ secret
    refute text =~ URI.encode_www_form(secret)
    text
  end

  # The exception, its message and its stack trace formatted as a crash
  # would print them.
  defp raised(fun) do
    try do
      fun.()
      flunk("expected an exception")
    rescue
      error ->
        Exception.format(:error, error, __STACKTRACE__) <>
          inspect(error) <> inspect(__STACKTRACE__, limit: :infinity) <> format_p(__STACKTRACE__)
    end
  end

  defp format_p(term), do: IO.iodata_to_binary(:io_lib.format(~c"~p", [term]))

  test "options the NIF would refuse are refused first, without the password" do
    for bad <- [[timeout: 0], [database: -1], [port: 70_000], [max_reply_bytes: 0], [host: :x]] do
      raised(fn -> Redis.start_link([host: "127.0.0.1", password: @secret] ++ bad) end)
      |> refute_secret()

      raised(fn -> Redis.start_link([url: "redis://:#{@secret}@127.0.0.1:6413/0"] ++ bad) end)
      |> refute_secret()
    end

    text = raised(fn -> Redis.start_link(password: @number_secret) end)
    assert text =~ "password must be a string or a zero-arity function"
    refute_secret(text, Integer.to_string(@number_secret))

    text = raised(fn -> Redis.start_link(password: String.to_charlist(@secret)) end)
    refute_secret(text, inspect(String.to_charlist(@secret)))

    text =
      raised(fn -> Redis.start_link(password: fn -> @number_secret end, sync_connect: true) end)

    assert text =~ "the :password function must return a string"
    refute_secret(text, Integer.to_string(@number_secret))
  end

  test "every URL form is redacted" do
    for url <- [
          "redis://#{@secret}@127.0.0.1/x",
          "redis://:#{@secret}@127.0.0.1:bad",
          "redis://user:#{@secret}@127.0.0.1:6379/-1",
          "redis://:#{@secret}@",
          "http://user:#{@secret}@host/0",
          "redis:#{@secret}@host",
          "redis://:#{@secret}@[::1",
          "redis://:#{@secret}@127.0.0.1:6379/0?x=y"
        ] do
      text = raised(fn -> Redis.start_link(url: url) end)
      assert text =~ "***"
      refute_secret(text)
    end

    refute_secret(
      raised(fn -> Redis.start_link(url: String.to_charlist("redis://:#{@secret}@h")) end)
    )
  end

  test "a connection that cannot connect names host and port, not the password" do
    port = RedisServer.free_port()

    for opts <- [
          [url: "redis://:#{@secret}@127.0.0.1:#{port}", sync_connect: true],
          [port: port, password: @secret, sync_connect: true]
        ] do
      assert {:error, error} = Redis.start_link(opts)
      message = Exception.message(error)
      assert message == "cannot connect to 127.0.0.1:#{port}: econnrefused"
      refute_secret(inspect(error) <> message)
    end
  end

  test "a wrong password in the background: calls say WRONGPASS, nothing shows the password" do
    server = RedisServer.start!(["--requirepass", "the-right-one"])
    {:ok, conn} = Redis.start_link(url: "redis://:#{@secret}@127.0.0.1:#{server.port}")
    assert {:error, %Redis.Error{} = error} = Redis.command(conn, ["PING"])
    refute_secret(Exception.message(error) <> inspect(:sys.get_state(conn)))
  end

  test "a supervisor child that fails to start shows no password in any report" do
    port = RedisServer.free_port()

    # Supervisor.start_link links the failure back to the caller.
    Process.flag(:trap_exit, true)

    log =
      capture_log(fn ->
        children = [
          {Redis,
           url: "redis://:#{@secret}@127.0.0.1:#{port}/1", sync_connect: true, name: :secret_conn}
        ]

        assert {:error, reason} = Supervisor.start_link(children, strategy: :one_for_one)
        refute_secret(inspect(reason, limit: :infinity) <> format_p(reason))
      end)

    refute_secret(log)
    # The supervisor's report prints the child's start arguments.
    refute_secret(logged([~r/errorContext: start_error.*secret_conn/s]))

    # Options that fail their checks fail in the caller, before any process.
    text =
      raised(fn ->
        Supervisor.start_link([{Redis, url: "redis://:#{@secret}@127.0.0.1:x"}],
          strategy: :one_for_one
        )
      end)

    refute_secret(text)
  end

  test "a cache keeps its URL sealed: state, child spec, crash and supervisor reports" do
    server = RedisServer.start!(["--requirepass", @secret])
    url = "redis://:#{@secret}@127.0.0.1:#{server.port}"
    {:ok, conn} = Redis.start_link(url: url)
    {:ok, "OK"} = Redis.command(conn, ["SET", "k", <<1.5::float-native-64>>])

    spec = Cache.child_spec(name: :secret_cache, redis: [url: url], keys: [{"k", :f64}])
    refute_secret(inspect(spec, limit: :infinity) <> format_p(spec))

    log =
      capture_log(fn ->
        {:ok, sup} =
          Supervisor.start_link(
            [{Cache, name: :secret_cache, redis: [url: url], keys: [{"k", :f64}], await: true}],
            strategy: :one_for_one
          )

        # It did connect and authenticate with the sealed password.
        assert Cache.status(:secret_cache).state == :fresh
        state = :sys.get_state(:secret_cache)
        refute_secret(inspect(state, limit: :infinity) <> format_p(state))

        # A second cache under the same name fails to start: a supervisor
        # report with its start arguments.
        assert {:error, _} =
                 Supervisor.start_child(
                   sup,
                   Supervisor.child_spec(
                     {Cache, name: :secret_cache, redis: [password: @secret, port: server.port]},
                     id: :second
                   )
                 )

        # A crash: the GenServer report prints the state and the message.
        pid = Process.whereis(:secret_cache)
        ref = Process.monitor(pid)
        catch_exit(GenServer.call(:secret_cache, :no_such_call))
        assert_receive {:DOWN, ^ref, :process, ^pid, _}
        Supervisor.stop(sup)
      end)

    refute_secret(log)
    assert log =~ "no_such_call"
    # The crash report prints the cache's state and the call.
    refute_secret(logged([~r/crasher:.*no_such_call/s]))

    io =
      capture_io(:stderr, fn ->
        raised(fn -> Cache.start_link(name: :c2, redis: [url: url <> "x:y"]) end)
      end)

    refute_secret(io)
  end

  test "a cache that fails to start under a supervisor shows no password in its report" do
    server = RedisServer.start!(["--requirepass", @secret])
    # The name is taken, so the cache's start fails after its options passed.
    Process.register(self(), :taken_cache_name)
    Process.flag(:trap_exit, true)

    children = [
      {Cache,
       name: :taken_cache_name,
       redis: [url: "redis://:#{@secret}@127.0.0.1:#{server.port}"],
       keys: [{"k", :f64}]},
      Supervisor.child_spec(
        {Cache,
         name: :taken_cache_name,
         redis: [password: @secret, port: server.port],
         keys: [{"k", :f64}]},
        id: :second
      )
    ]

    for child <- children do
      log =
        capture_log(fn ->
          assert {:error, reason} = Supervisor.start_link([child], strategy: :one_for_one)
          refute_secret(inspect(reason, limit: :infinity) <> format_p(reason))
        end)

      refute_secret(log)
      # The supervisor's report, with the child's start arguments.
      refute_secret(logged([~r/errorContext: start_error.*Analytics.Cache.*taken_cache_name/s]))
    end
  end

  test "a cache given bad Redis options raises in the caller, redacted" do
    for redis <- [
          [url: "http://:#{@secret}@x"],
          [url: "redis://:#{@secret}@h:p"],
          [password: @number_secret],
          [pasword: @secret]
        ] do
      text = raised(fn -> Cache.start_link(name: :never_started, redis: redis) end)
      assert text =~ "ArgumentError"
      refute_secret(text)
      refute_secret(text, Integer.to_string(@number_secret))
      assert Process.whereis(:never_started) == nil
    end
  end

  test "a stack trace through the NIF call loses its arguments" do
    # What Analytics.Redis re-raises should the NIF ever refuse anyway.
    {error, stacktrace} =
      try do
        Analytics.Native.redis_connect("127.0.0.1", 0, "", @secret, 0, 1, 1, true, false, "", 1)
      rescue
        error -> {error, __STACKTRACE__}
      end

    assert Exception.format(:error, error, stacktrace) =~ @secret
    scrubbed = Redis.Options.scrub_stacktrace(stacktrace)
    refute_secret(Exception.format(:error, error, scrubbed) <> format_p(scrubbed))
    assert [{Analytics.Native, :redis_connect, 11, _} | _] = scrubbed
  end
end
