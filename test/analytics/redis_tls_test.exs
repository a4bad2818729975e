defmodule Analytics.RedisTlsTest do
  # TLS against real redis-servers whose port speaks TLS only, with
  # certificates made for this module (test/support/make_tls_certs.sh).
  use ExUnit.Case, async: true

  alias Analytics.{Cache, Redis, RedisServer}
  alias Analytics.Redis.ConnectionError

  @password "tls-s3cret-pass"

  setup_all do
    certs = RedisServer.tls_certificates!()
    server = RedisServer.start_tls!(certs)
    %{certs: certs, server: server, ca: Path.join(certs, "ca.crt")}
  end

  defp file(certs, name), do: Path.join(certs, name)

  defp connect(server, opts) do
    Redis.start_link([port: server.port, sync_connect: true, timeout: 5_000] ++ opts)
  end

  describe "over TLS" do
    test "commands, pipelines and fetches", %{server: server, ca: ca} do
      {:ok, conn} = connect(server, ssl: [cacertfile: ca])
      assert {:ok, "OK"} = Redis.command(conn, ["SET", "tls:k", "v"])
      assert {:ok, "v"} = Redis.command(conn, ["GET", "tls:k"])

      values = Enum.map(1..1000, &(&1 * 0.5))
      {:ok, _} = Redis.command(conn, ["DEL", "tls:list"])
      {:ok, 1000} = Redis.command(conn, ["RPUSH", "tls:list" | Enum.map(values, &to_string/1)])
      {:ok, series} = Redis.fetch(conn, {:lrange, "tls:list", 0, -1, :f64})
      assert Analytics.Series.to_list(series) == values

      # Far more than one TLS record each way, pipelined.
      big = :binary.copy(<<1.5::float-little-64>>, 300_000)
      {:ok, "OK"} = Redis.command(conn, ["SET", "tls:big", big])
      {:ok, [^big, ^big]} = Redis.pipeline(conn, [["GET", "tls:big"], ["GET", "tls:big"]])
      {:ok, packed} = Redis.fetch(conn, {:get, "tls:big", :f64})
      assert Analytics.Series.size(packed) == 300_000
    end

    test "a rediss:// URL, checked against the certificate's host name", %{server: server, ca: ca} do
      {:ok, conn} =
        Redis.start_link(
          url: "rediss://localhost:#{server.port}/3",
          ssl: [cacertfile: ca],
          sync_connect: true
        )

      {:ok, "OK"} = Redis.command(conn, ["SET", "in-db-3", "yes"])
      {:ok, other} = connect(server, ssl: [cacertfile: ca])
      assert {:ok, nil} = Redis.command(other, ["GET", "in-db-3"])
    end

    test "AUTH runs inside TLS, and no message shows the password", %{certs: certs, ca: ca} do
      server = RedisServer.start_tls!(certs, args: ["--requirepass", @password])
      url = "rediss://:#{@password}@127.0.0.1:#{server.port}"
      {:ok, conn} = Redis.start_link(url: url, ssl: [cacertfile: ca], sync_connect: true)
      assert {:ok, "PONG"} = Redis.command(conn, ["PING"])

      # Refused by the certificate check, before AUTH ...
      assert {:error, %ConnectionError{} = error} = Redis.start_link(url: url, sync_connect: true)

      refute inspect(error) =~ @password
      refute Exception.message(error) =~ @password

      # ... and by bad options, before anything is sent.
      error =
        assert_raise ArgumentError, fn -> Redis.start_link(url: url, ssl: [verify: :maybe]) end

      refute Exception.message(error) =~ @password
    end

    test "Analytics.Cache fetches through a TLS connection", %{server: server, ca: ca} do
      {:ok, conn} = connect(server, ssl: [cacertfile: ca])
      {:ok, "OK"} = Redis.command(conn, ["SET", "tls:cached", <<1::little-64, 2::little-64>>])

      name = :"tls_cache_#{System.unique_integer([:positive])}"

      start_supervised!(
        {Cache,
         name: name,
         redis: [url: RedisServer.url(server), ssl: [cacertfile: ca]],
         keys: [{"tls:cached", :i64}],
         await: true}
      )

      {:ok, series} = Cache.get(name, "tls:cached")
      assert Analytics.Series.to_list(series) == [1, 2]
    end
  end

  describe "certificates that do not verify" do
    test "the system CA bundle does not trust the test CA", %{server: server} do
      assert {:error, %ConnectionError{} = error} =
               Redis.start_link(url: RedisServer.url(server), sync_connect: true)

      assert Exception.message(error) =~
               "cannot connect to 127.0.0.1:#{server.port}: TLS handshake failed: certificate verify failed: self-signed certificate in certificate chain"
    end

    test "a CA that did not sign the server's certificate", %{certs: certs, ca: ca} do
      other = RedisServer.start_tls!(certs, cert: "other-server")

      assert {:error, error} = connect(other, ssl: [cacertfile: ca])

      assert Exception.message(error) =~
               "certificate verify failed: unable to get local issuer certificate"
    end

    test "a certificate for another name", %{server: server, ca: ca} do
      assert {:error, error} =
               connect(server,
                 ssl: [cacertfile: ca, server_name_indication: ~c"redis.example.com"]
               )

      assert Exception.message(error) =~ "certificate verify failed: hostname mismatch"

      assert {:error, error} =
               connect(server, ssl: [cacertfile: ca, server_name_indication: ~c"127.0.0.2"])

      assert Exception.message(error) =~ "certificate verify failed: IP address mismatch"
    end

    test "connecting in the background: calls fail with :closed saying why, nothing crashes",
         %{server: server} do
      {:ok, conn} = Redis.start_link(url: RedisServer.url(server))

      for _ <- 1..2 do
        assert {:error, %ConnectionError{reason: :closed, cause: cause}} =
                 Redis.command(conn, ["PING"], timeout: 5_000)

        assert cause =~ "TLS handshake failed: certificate verify failed"
      end

      assert Process.alive?(conn)
    end

    test "verify: :verify_none connects all the same", %{certs: certs, server: server} do
      {:ok, conn} =
        connect(server,
          ssl: [verify: :verify_none, cacertfile: file(certs, "other-ca.crt")],
          host: "localhost"
        )

      assert {:ok, "PONG"} = Redis.command(conn, ["PING"])
    end
  end

  describe "mutual TLS" do
    setup %{certs: certs} do
      %{mtls: RedisServer.start_tls!(certs, auth_clients: true)}
    end

    test "with a client certificate", %{mtls: server, certs: certs, ca: ca} do
      ssl = [
        cacertfile: ca,
        certfile: file(certs, "client.crt"),
        keyfile: file(certs, "client.key")
      ]

      {:ok, conn} = connect(server, ssl: ssl)
      assert {:ok, "PONG"} = Redis.command(conn, ["PING"])
    end

    test "without one, the server's refusal is the error", %{mtls: server, ca: ca} do
      assert {:error, %ConnectionError{} = error} = connect(server, ssl: [cacertfile: ca])
      assert Exception.message(error) =~ "certificate required"
    end
  end

  describe "the wrong protocol for the port" do
    test "a TLS client at a plain port fails by its connect timeout, saying why" do
      plain = RedisServer.start!()

      assert {:error, %ConnectionError{} = error} = connect(plain, ssl: true, timeout: 1_000)

      assert Exception.message(error) =~ "TLS"
    end

    test "a plain client at a TLS port gets errors, never a hang", %{server: server} do
      case Redis.start_link(port: server.port, sync_connect: true, timeout: 2_000) do
        {:ok, conn} ->
          assert {:error, %ConnectionError{}} = Redis.command(conn, ["PING"], timeout: 2_000)

        {:error, error} ->
          assert %ConnectionError{} = error
      end

      assert {:error, %ConnectionError{reason: reason}} =
               Redis.start_link(
                 port: server.port,
                 password: @password,
                 sync_connect: true,
                 timeout: 2_000
               )

      refute inspect(reason) =~ @password
    end
  end

  describe "bad ssl options raise ArgumentError naming the problem" do
    test "keys, values and files", %{certs: certs, ca: ca} do
      assert_raise ArgumentError, ~r/unknown option :cacert for the :ssl option/, fn ->
        Redis.start_link(ssl: [cacert: ca])
      end

      assert_raise ArgumentError, ~r/ssl must be true, false or a keyword list/, fn ->
        Redis.start_link(ssl: :yes)
      end

      assert_raise ArgumentError, ~r/ssl: cacertfile \/nonexistent\/ca.crt does not exist/, fn ->
        Redis.start_link(ssl: [cacertfile: "/nonexistent/ca.crt"])
      end

      assert_raise ArgumentError, ~r/ssl: certfile .* is not a regular file/, fn ->
        Redis.start_link(ssl: [certfile: certs])
      end

      assert_raise ArgumentError, ~r/ssl: verify must be :verify_peer or :verify_none/, fn ->
        Redis.start_link(ssl: [verify: true])
      end

      assert_raise ArgumentError, ~r/ssl: a :keyfile needs the :certfile/, fn ->
        Redis.start_link(ssl: [keyfile: file(certs, "client.key")])
      end

      assert_raise ArgumentError, ~r/server_name_indication must be a host name/, fn ->
        Redis.start_link(ssl: [server_name_indication: :yes])
      end

      assert_raise ArgumentError, ~r/ssl: cannot load cacertfile .*make_tls_certs.sh/, fn ->
        Redis.start_link(ssl: [cacertfile: Path.expand("../support/make_tls_certs.sh", __DIR__)])
      end
    end

    test "a key under a passphrase is not supported", %{certs: certs} do
      assert_raise ArgumentError, ~r/protected by a passphrase, which is not supported/, fn ->
        Redis.start_link(
          ssl: [certfile: file(certs, "client.crt"), keyfile: file(certs, "client-locked.key")]
        )
      end
    end
  end
end
