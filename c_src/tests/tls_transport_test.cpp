// TlsTransport and TlsContext against a real redis-server listening with TLS
// only, with certificates made for the run by test/support/make_tls_certs.sh.
#include <catch2/catch.hpp>

#include <poll.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../redis/command.hpp"
#include "../redis/plain_transport.hpp"
#include "../redis/tls_transport.hpp"
#include "redis_process.hpp"
#include "tls_files.hpp"

using namespace analytics::redis;
using analytics::test::connect_tcp;
using analytics::test::RedisProcess;
using analytics::test::tls_file;
using analytics::test::tls_server_args;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

TlsSettings trusting(const char* ca) {
    TlsSettings settings;
    settings.cacertfile = tls_file(ca);
    return settings;
}

// Runs `operation` until done, waiting on the socket as asked; a failure,
// close or timeout comes back as it is.
IoResult drive(Transport& transport, const std::function<IoResult()>& operation, Clock::duration limit = 5s) {
    const auto deadline = Clock::now() + limit;
    for (;;) {
        IoResult result = operation();
        if (result.status != IoStatus::want_read && result.status != IoStatus::want_write) return result;
        pollfd p{transport.fd(), static_cast<short>(result.status == IoStatus::want_read ? POLLIN : POLLOUT), 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) return {IoStatus::failed, 0, "test timeout"};
    }
}

std::unique_ptr<TlsTransport> tls_to(const RedisProcess& redis, const TlsSettings& settings,
                                     TlsPeer peer = {"127.0.0.1", true}) {
    auto context = std::make_shared<const TlsContext>(settings);
    return std::make_unique<TlsTransport>(context, connect_tcp(redis.endpoint(), Clock::now() + 5s), peer);
}

// Sends `wire` whole, then reads until `expected` bytes came (or the server
// closed, failed, or the time ran out): what was read, or the failure's text.
std::string exchange(Transport& transport, const std::string& wire, std::size_t expected) {
    for (std::size_t sent = 0; sent < wire.size();) {
        const IoResult written =
            drive(transport, [&] { return transport.write(std::span<const char>(wire).subspan(sent)); });
        if (written.status != IoStatus::done) return "write: " + written.error;
        sent += written.bytes;
    }
    std::string got;
    std::vector<char> buffer(64 * 1024);
    while (got.size() < expected) {
        const IoResult read = drive(transport, [&] { return transport.read(buffer); });
        if (read.status != IoStatus::done) return "read: " + read.error;
        got.append(buffer.data(), read.bytes);
    }
    return got;
}

std::string handshake(Transport& transport) {
    const IoResult result = drive(transport, [&] { return transport.handshake(); });
    return result.status == IoStatus::done ? "done" : result.error;
}

}  // namespace

TEST_CASE("TLS: commands round-trip once the server's certificate is verified", "[tls]") {
    const RedisProcess redis(tls_server_args(), RedisProcess::Listen::tls);

    SECTION("by IP address, checked against the certificate's IP entry") {
        auto tls = tls_to(redis, trusting("ca.crt"));
        REQUIRE(handshake(*tls) == "done");
        CHECK(exchange(*tls, format_command({"SET", "k", "v"}) + format_command({"GET", "k"}), 12) ==
              "+OK\r\n$1\r\nv\r\n");
    }
    SECTION("by host name, sent as SNI") {
        auto tls = tls_to(redis, trusting("ca.crt"), {"localhost", true});
        REQUIRE(handshake(*tls) == "done");
        CHECK(exchange(*tls, format_command({"PING"}), 7) == "+PONG\r\n");
    }
}

TEST_CASE("TLS: values far larger than a record cross whole, both ways", "[tls]") {
    const RedisProcess redis(tls_server_args(), RedisProcess::Listen::tls);
    auto tls = tls_to(redis, trusting("ca.crt"));
    REQUIRE(handshake(*tls) == "done");
    std::string value(3 << 20, 'x');
    for (std::size_t i = 0; i < value.size(); i += 4099) value[i] = static_cast<char>('a' + i % 26);
    // Three copies pipelined: many records, partial writes, reads that stop
    // for want of bytes midway through a record.
    const std::string bulk = "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
    const std::string wire = format_command({"SET", "big", value}) + format_command({"GET", "big"}) +
                             format_command({"GET", "big"}) + format_command({"GET", "big"});
    CHECK(exchange(*tls, wire, 5 + 3 * bulk.size()) == "+OK\r\n" + bulk + bulk + bulk);
}

TEST_CASE("TLS: a certificate that does not verify fails the handshake, saying why", "[tls]") {
    const RedisProcess redis(tls_server_args(), RedisProcess::Listen::tls);

    SECTION("signed by a CA not trusted") {
        auto tls = tls_to(redis, trusting("other-ca.crt"));
        CHECK(handshake(*tls) == "TLS handshake failed: certificate verify failed: self-signed certificate in certificate chain");
    }
    SECTION("for another name") {
        auto tls = tls_to(redis, trusting("ca.crt"), {"redis.example.com", true});
        CHECK(handshake(*tls) == "TLS handshake failed: certificate verify failed: hostname mismatch");
    }
    SECTION("for another IP address") {
        auto tls = tls_to(redis, trusting("ca.crt"), {"127.0.0.2", true});
        CHECK(handshake(*tls) == "TLS handshake failed: certificate verify failed: IP address mismatch");
    }
    SECTION("unless verification is off") {
        TlsSettings settings = trusting("other-ca.crt");
        settings.verify_peer = false;
        auto tls = tls_to(redis, settings, {"redis.example.com", true});
        REQUIRE(handshake(*tls) == "done");
        CHECK(exchange(*tls, format_command({"PING"}), 7) == "+PONG\r\n");
    }
}

TEST_CASE("TLS: mutual TLS with a client certificate", "[tls]") {
    const RedisProcess redis(tls_server_args("yes"), RedisProcess::Listen::tls);

    SECTION("with one, commands run") {
        TlsSettings settings = trusting("ca.crt");
        settings.certfile = tls_file("client.crt");
        settings.keyfile = tls_file("client.key");
        auto tls = tls_to(redis, settings);
        REQUIRE(handshake(*tls) == "done");
        CHECK(exchange(*tls, format_command({"PING"}), 7) == "+PONG\r\n");
    }
    SECTION("without, the server's refusal is the error (in TLS 1.3 it comes after the client's handshake)") {
        auto tls = tls_to(redis, trusting("ca.crt"));
        const std::string handshaken = handshake(*tls);
        const std::string outcome =
            handshaken == "done" ? exchange(*tls, format_command({"PING"}), 7) : handshaken;
        CHECK_THAT(outcome, Catch::Contains("certificate required"));
    }
}

TEST_CASE("TLS: a TLS client at a plain port fails, or times out, without hanging", "[tls]") {
    const RedisProcess redis;
    auto tls = tls_to(redis, trusting("ca.crt"));
    const IoResult result = drive(*tls, [&] { return tls->handshake(); }, 2s);
    CHECK(result.status != IoStatus::done);
    CHECK_FALSE(result.error.empty());
}

TEST_CASE("TLS: a plain client at a TLS port is cut off", "[tls]") {
    const RedisProcess redis(tls_server_args(), RedisProcess::Listen::tls);
    PlainTransport plain(connect_tcp(redis.endpoint(), Clock::now() + 5s));
    const std::string outcome = exchange(plain, format_command({"PING"}), 7);
    CHECK((outcome == "read: econnreset" || outcome == "read: closed"));
}

TEST_CASE("TLS: files that do not load are refused, naming them", "[tls]") {
    TlsSettings settings;
    SECTION("a CA file that is no PEM") {
        settings.cacertfile = ANALYTICS_MAKE_TLS_CERTS;
        CHECK_THROWS_WITH(TlsContext(settings), Catch::StartsWith("ssl: cannot load cacertfile " + settings.cacertfile));
    }
    SECTION("a key under a passphrase") {
        settings.certfile = tls_file("client.crt");
        settings.keyfile = tls_file("client-locked.key");
        CHECK_THROWS_WITH(TlsContext(settings), Catch::EndsWith("client-locked.key: it is protected by a passphrase, which is not supported"));
    }
    SECTION("a key of another certificate") {
        settings.certfile = tls_file("client.crt");
        settings.keyfile = tls_file("server.key");
        CHECK_THROWS_WITH(TlsContext(settings), Catch::Contains("key values mismatch"));
    }
}
