defmodule Analytics.Redis.AuthTest do
  use ExUnit.Case, async: true
  alias Analytics.{Redis, RedisServer}
  alias Analytics.Redis.Error

  @password "s3cret-pass"

  setup do
    server = RedisServer.start!(["--requirepass", @password])
    %{server: server, url: "redis://127.0.0.1:#{server.port}"}
  end

  test "AUTH with the password, from the URL or options", %{server: server} do
    {:ok, conn} = Redis.start_link(url: "redis://:#{@password}@127.0.0.1:#{server.port}/2")
    assert Redis.command(conn, ["PING"]) == {:ok, "PONG"}
    {:ok, conn2} = Redis.start_link(port: server.port, password: @password)
    assert Redis.command(conn2, ["PING"]) == {:ok, "PONG"}
  end

  test "a wrong or missing password is an error that never shows a password", %{
    server: server,
    url: url
  } do
    assert {:error, %Error{message: message} = error} =
             Redis.start_link(port: server.port, password: "wrong-pw", sync_connect: true)

    assert message =~ "WRONGPASS"
    refute inspect(error) =~ "wrong-pw"

    {:ok, conn} = Redis.start_link(url: url)
    assert {:error, %Error{message: "NOAUTH" <> _}} = Redis.command(conn, ["GET", "k"])
  end

  test "AUTH as an ACL user", %{server: server} do
    {:ok, admin} = Redis.start_link(port: server.port, password: @password)

    {:ok, "OK"} =
      Redis.command(admin, ["ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "&*", "+@all"])

    {:ok, alice} = Redis.start_link(url: "redis://alice:alice-pw@127.0.0.1:#{server.port}")
    assert Redis.command(alice, ["ACL", "WHOAMI"]) == {:ok, "alice"}

    assert {:error, %Error{}} =
             Redis.start_link(
               url: "redis://alice:nope@127.0.0.1:#{server.port}",
               sync_connect: true
             )
  end

  test "a bad URL error hides its password" do
    error =
      assert_raise ArgumentError, fn -> Redis.start_link(url: "http://bob:hunter2@host/0") end

    refute error.message =~ "hunter2"
    assert error.message =~ "bob:***@"
  end

  test "the connection's state holds no password", %{server: server} do
    {:ok, conn} = Redis.start_link(port: server.port, password: @password)
    refute inspect(:sys.get_state(conn)) =~ @password
  end
end
