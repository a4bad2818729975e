defmodule Analytics.DocsTest do
  # Every Elixir code block of the README and the guides runs, and what it
  # shows is what the code gives. Redis examples talk to a test
  # redis-server, whose address replaces the one written in the docs.
  use ExUnit.Case, async: true
  alias Analytics.{DocExamples, RedisServer}

  @root Path.expand("..", __DIR__)
  @docs [
    "README.md"
    | "guides/*.md"
      |> Path.expand(@root)
      |> Path.wildcard()
      |> Enum.map(&Path.relative_to(&1, @root))
  ]

  for doc <- @docs, do: @external_resource(Path.join(@root, doc))

  setup_all do
    server = RedisServer.start!()
    # The docs' URL names a user "user" with password "pass".
    {:ok, conn} = Analytics.Redis.start_link(url: RedisServer.url(server), sync_connect: true)
    {:ok, "OK"} = Analytics.Redis.command(conn, ~w(ACL SETUSER user on >pass ~* &* +@all))
    Analytics.Redis.stop(conn)
    # TLS examples name 127.0.0.1:6380 and certificates in /etc/redis/tls/.
    certs = RedisServer.tls_certificates!()
    tls = RedisServer.start_tls!(certs, auth_clients: :optional)

    %{
      replacements: [
        {"127.0.0.1:6379", "127.0.0.1:#{server.port}"},
        {"127.0.0.1:6380", "127.0.0.1:#{tls.port}"},
        {"/etc/redis/tls/", certs <> "/"}
      ]
    }
  end

  test "the README and every guide have code blocks to run" do
    for doc <- @docs, doc != "guides/guarantees.md" do
      assert DocExamples.blocks(Path.join(@root, doc)) != [], "#{doc} has no Elixir block"
    end
  end

  for doc <- @docs,
      %DocExamples{line: line} = block <- DocExamples.blocks(Path.join(@root, doc)) do
    @block block
    test "#{doc}:#{line}", %{replacements: replacements} do
      DocExamples.run!(@block, replacements)
    end
  end
end
