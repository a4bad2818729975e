// Where a connection goes, an owned socket, and how connecting fails
// (connect.hpp connects).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace analytics::redis {

struct Endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string username;  // empty: AUTH with the password alone
    std::string password;  // empty: no AUTH
    int database = 0;
};

// An errno as a connection error reason: "econnrefused", "timeout", ...
std::string errno_reason(int error);

// "host:port", "[v6 address]:port": where an endpoint connects, for messages.
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


}  // namespace analytics::redis
