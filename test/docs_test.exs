defmodule Analytics.DocsTest do
  # Every Elixir code block of the README runs, and what it shows is what
  # the code gives. Redis examples talk to a test redis-server, whose URL
  # replaces the one written in the README.
  use ExUnit.Case, async: true
  alias Analytics.{DocExamples, RedisServer}

  @readme Path.expand("../README.md", __DIR__)

  setup_all do
    server = RedisServer.start!()
    # The README's URL names a user "user" with password "pass".
    {:ok, conn} = Analytics.Redis.start_link(url: RedisServer.url(server), sync_connect: true)
    {:ok, "OK"} = Analytics.Redis.command(conn, ~w(ACL SETUSER user on >pass ~* &* +@all))
    Analytics.Redis.stop(conn)
    %{replacements: [{"127.0.0.1:6379", "127.0.0.1:#{server.port}"}]}
  end

  for %DocExamples{line: line} = block <- DocExamples.blocks(@readme) do
    @block block
    test "README.md:#{line}", %{replacements: replacements} do
      DocExamples.run!(@block, replacements)
    end
  end
end
