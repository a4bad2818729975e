defmodule Analytics.Redis.BadInputTest do
  # Every Analytics.Redis function, fed malformed input, raises ArgumentError
  # naming the problem; the connection and the VM live on.
  use ExUnit.Case, async: true
  alias Analytics.{Redis, RedisServer}

  setup context, do: RedisServer.with_connection(context)

  @bad_commands [
    {:ping, ~r/non-empty list of arguments, got: :ping/},
    {"PING", ~r/non-empty list of arguments, got: "PING"/},
    {[], ~r/non-empty list of arguments, got: \[\]/},
    {nil, ~r/non-empty list of arguments/},
    {["GET", :k], ~r/strings or numbers, got: :k/},
    {["GET", nil], ~r/strings or numbers, got: nil/},
    {["GET", ["nested"]], ~r/strings or numbers, got: \["nested"\]/},
    {["GET", {:k}], ~r/strings or numbers/},
    {["GET", self()], ~r/strings or numbers/},
    {[:GET], ~r/strings or numbers, got: :GET/},
    {["GET" | "k"], ~r/proper list, got a tail of: "k"/},
    {["GET", "k" | :x], ~r/proper list, got a tail of: :x/}
  ]

  @bad_specs [
    {:get, ~r/bad fetch spec: :get/},
    {{:get, "k"}, ~r/bad fetch spec/},
    {{:get, :k, :f64}, ~r/bad fetch spec/},
    {{:get, "k", :f32}, ~r/bad fetch spec/},
    {{:lrange, "k", 0, -1}, ~r/bad fetch spec/},
    {{:lrange, "k", 0.0, -1, :f64}, ~r/bad fetch spec/},
    {{:lrange, "k", "0", "-1", :f64}, ~r/bad fetch spec/},
    {{:hvals, "k"}, ~r/bad fetch spec/},
    {{:hvals, 'k', :f64}, ~r/bad fetch spec/},
    {{:mget, [], :f64}, ~r/bad fetch spec/},
    {{:mget, ["a", :b], :f64}, ~r/bad fetch spec/},
    {{:mget, "a", :f64}, ~r/bad fetch spec/},
    {{:zrange_scores, "z", 0}, ~r/bad fetch spec/},
    {{:zrange_scores, "z", 0, -1, :f64}, ~r/bad fetch spec/},
    {{:scan, "k"}, ~r/bad fetch spec/},
    {nil, ~r/bad fetch spec: nil/}
  ]

  test "command and pipeline reject malformed commands", %{conn: conn} do
    for {command, message} <- @bad_commands do
      assert_raise ArgumentError, message, fn -> Redis.command(conn, command) end
      assert_raise ArgumentError, message, fn -> Redis.pipeline(conn, [["PING"], command]) end
    end

    for commands <- [[], :x, nil] do
      assert_raise ArgumentError, ~r/non-empty list of commands/, fn ->
        Redis.pipeline(conn, commands)
      end
    end

    assert_raise ArgumentError, ~r/proper list of commands, got a tail of: :x/, fn ->
      Redis.pipeline(conn, [["PING"] | :x])
    end
  end

  test "commands that would desynchronise or silently change the shared connection are refused",
       %{conn: conn} do
    for {command, name} <- [
          {["SUBSCRIBE", "news"], "SUBSCRIBE"},
          {["psubscribe", "n*"], "PSUBSCRIBE"},
          {["MONITOR"], "MONITOR"},
          {["CLIENT", "REPLY", "OFF"], "CLIENT REPLY"},
          {["client", "reply", "skip"], "CLIENT REPLY"},
          {["SELECT", 1], "SELECT"},
          {["AUTH", "user", "hunter2"], "AUTH"},
          {["HELLO", "3"], "HELLO"},
          {["RESET"], "RESET"}
        ] do
      error = assert_raise ArgumentError, fn -> Redis.command(conn, command) end
      assert String.starts_with?(error.message, name <> " ")
      refute error.message =~ "hunter2"

      assert_raise ArgumentError, ~r/^#{name} /, fn ->
        Redis.pipeline(conn, [["PING"], command])
      end
    end

    # Nothing was sent: replies still pair with their commands.
    assert Redis.pipeline(conn, [["PING"], ["CLIENT", "SETNAME", "ok"], ["ECHO", "x"]]) ==
             {:ok, ["PONG", "OK", "x"]}
  end

  test "fetch, fetch_async and fetch_many reject malformed specs", %{conn: conn} do
    for {spec, message} <- @bad_specs do
      assert_raise ArgumentError, message, fn -> Redis.fetch(conn, spec) end
      assert_raise ArgumentError, message, fn -> Redis.fetch_async(conn, spec) end

      assert_raise ArgumentError, message, fn ->
        Redis.fetch_many(conn, [{:get, "k", :f64}, spec])
      end
    end

    for specs <- [[], :x] do
      assert_raise ArgumentError, ~r/non-empty list of specs/, fn ->
        Redis.fetch_many(conn, specs)
      end
    end
  end

  test "timeouts must be non-negative integers or :infinity", %{conn: conn} do
    for timeout <- [-1, 1.5, :forever, "5", nil] do
      assert_raise ArgumentError,
                   ~r/timeout must be a non-negative integer \(ms\) or :infinity/,
                   fn ->
                     Redis.command(conn, ["PING"], timeout: timeout)
                   end
    end
  end

  test "a connection that is not running is named in the error" do
    for conn <- [:no_such_conn, spawn(fn -> :ok end), {:global, :nope}] do
      assert_raise ArgumentError, ~r/no Analytics.Redis connection running/, fn ->
        Redis.command(conn, ["PING"])
      end
    end
  end

  test "start_link rejects bad URLs and options" do
    for {opts, message} <- [
          {[url: "http://host"], ~r/expected a URL like redis:\/\//},
          {[url: "redis://"], ~r/expected a URL like/},
          {[url: "redis://host/abc"], ~r/bad database/},
          {[url: :x], ~r/url must be a string/},
          {[port: 0], ~r/port must be an integer from 1 to 65535/},
          {[port: "6379"], ~r/port must be an integer/},
          {[host: :localhost], ~r/host must be a non-empty string, got: :localhost/},
          {[host: ""], ~r/host must be a non-empty string/},
          {[password: 123], ~r/password must be a string or a zero-arity function/},
          {[database: -1], ~r/database must be an integer/},
          {[timeout: 0], ~r/timeout must be an integer from 1/},
          {[max_reply_bytes: 0], ~r/max_reply_bytes must be an integer from 1/},
          {[sync_connect: :no], ~r/sync_connect must be true or false, got: :no/}
        ] do
      assert_raise ArgumentError, message, fn -> Redis.start_link(opts) end
    end
  end

  test "the NIF rejects a forged engine or request", %{conn: conn} do
    ref = make_ref()

    assert_raise ArgumentError, ~r/expected an Analytics.Redis engine/, fn ->
      Analytics.Native.redis_request(make_ref(), ref, [["PING"]], [:tree], :single, 100)
    end

    engine = :persistent_term.get({Redis, conn})

    for {commands, slots, message} <- [
          {[["PING"]], [{:bogus, :f64, "k", nil}], ~r/bad reply layout/},
          {[["PING"]], [{:packed, :f32, "k", nil}], ~r/dtype must be/},
          {[["PING"]], [{:elements, :f64, "k", {0, 2 ** 64}}], ~r/must fit in 64 bits/},
          {[["PING"]], [{:elements, :f64, "k", :bogus}], ~r/bad reply names/},
          {[["PING"]], [{:packed, :f64, "k"}], ~r/bad reply slot/},
          {[["PING"]], [:nope], ~r/bad reply slot/},
          {[], [], ~r/at least one command/},
          {[["PING"], ["PING"]], [:tree], ~r/one reply slot per command, got 1 for 2/},
          {[[]], [:tree], ~r/non-empty list of strings/},
          {[[:a]], [:tree], ~r/must be strings/}
        ] do
      assert_raise ArgumentError, message, fn ->
        Analytics.Native.redis_request(engine, ref, commands, slots, :single, 100)
      end
    end

    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
  end
end
