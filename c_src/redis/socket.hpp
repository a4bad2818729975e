// Sockets to Redis: where an endpoint is (resolved to addresses), and a
// non-blocking connect to one of them. The handshake (AUTH, SELECT) runs on
// the reactor, in engine_connect.cpp.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace analytics::redis {

struct Endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string unix_path;  // non-empty: a Unix domain socket instead of host and port
    std::string username;   // empty: AUTH with the password alone
    std::string password;   // empty: no AUTH
    int database = 0;
};

// An errno as a connection error reason: "econnrefused", "timeout", ...
std::string errno_reason(int error);

// "host:port", "[v6 address]:port", or a Unix socket's path: where an
// endpoint connects, for messages.
std::string endpoint_address(const Endpoint& endpoint);

// Why a connection could not be made: `server` when Redis answered with an
// error (a bad password), otherwise a socket-level reason such as
// "econnrefused" or "timeout".
struct ConnectError : std::runtime_error {
    ConnectError(std::string reason, bool server) : std::runtime_error(std::move(reason)), server(server) {}
    bool server;
};

// An owned file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();

    int get() const { return fd_; }
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
};

// An endpoint's addresses, or why there are none ("cannot resolve ...").
struct Resolved {
    std::vector<Address> addresses;
    std::string error;
};

// The addresses when finding them cannot block: a Unix path or a numeric
// host. Nothing for a name that needs a DNS lookup.
std::optional<Resolved> resolve_at_once(const Endpoint& endpoint);
// getaddrinfo: may block; never on a reactor thread.
Resolved resolve_blocking(const Endpoint& endpoint);

// A non-blocking socket connecting to `address`: `in_progress` until it is
// writable (then check SO_ERROR with connect_error()). Throws ConnectError
// when the connect fails at once.
struct Connecting {
    Fd socket;
    bool in_progress = false;
};
Connecting start_connect(const Address& address);
// The outcome of a connect that was in progress: empty when connected.
std::string connect_error(int fd);

}  // namespace analytics::redis
