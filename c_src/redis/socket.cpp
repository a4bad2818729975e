#include "socket.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace analytics::redis {

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

std::string errno_reason(int error) {
    switch (error) {
        case ECONNREFUSED: return "econnrefused";
        case ETIMEDOUT: return "timeout";
        case EHOSTUNREACH: return "ehostunreach";
        case ENETUNREACH: return "enetunreach";
        case ECONNRESET: return "econnreset";
        case EPIPE: return "epipe";
        case ENOENT: return "enoent";  // a Unix socket path that does not exist
        case EACCES: return "eacces";
        default: return std::string("socket error: ") + std::strerror(error);
    }
}

std::string endpoint_address(const Endpoint& endpoint) {
    if (!endpoint.unix_path.empty()) return endpoint.unix_path;
    const bool v6 = endpoint.host.find(':') != std::string::npos;
    return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

namespace {

struct AddrInfoFree {
    void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

// getaddrinfo; with AI_NUMERICHOST it never blocks (and fails on a name).
Resolved lookup(const Endpoint& endpoint, int flags) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    if (const int status = getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); status != 0) {
        return {{}, std::string("cannot resolve ") + endpoint.host + ": " + gai_strerror(status)};
    }
    const std::unique_ptr<addrinfo, AddrInfoFree> addresses(found);
    Resolved resolved;
    for (const addrinfo* a = addresses.get(); a; a = a->ai_next) {
        Address address;
        std::memcpy(&address.storage, a->ai_addr, a->ai_addrlen);
        address.length = a->ai_addrlen;
        resolved.addresses.push_back(address);
    }
    return resolved;
}

}  // namespace

std::optional<Resolved> resolve_at_once(const Endpoint& endpoint) {
    if (!endpoint.unix_path.empty()) {
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        if (endpoint.unix_path.size() >= sizeof(un.sun_path)) {
            return Resolved{{}, "the socket path is longer than " + std::to_string(sizeof(un.sun_path) - 1) + " bytes"};
        }
        std::memcpy(un.sun_path, endpoint.unix_path.data(), endpoint.unix_path.size());
        Address address;
        std::memcpy(&address.storage, &un, sizeof(un));
        address.length = sizeof(un);
        return Resolved{{address}, {}};
    }
    Resolved numeric = lookup(endpoint, AI_NUMERICHOST);
    if (numeric.addresses.empty()) return std::nullopt;  // a name
    return numeric;
}

Resolved resolve_blocking(const Endpoint& endpoint) {
    if (auto at_once = resolve_at_once(endpoint)) return *at_once;
    return lookup(endpoint, 0);
}

Connecting start_connect(const Address& address) {
    const int family = address.storage.ss_family;
    Fd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) throw ConnectError(errno_reason(errno), false);
    if (family != AF_UNIX) {
        // Requests are written whole and small ones must not wait for Nagle.
        const int one = 1;
        ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length) == 0) {
        return {std::move(fd), false};
    }
    // (A Unix socket with a full backlog says EAGAIN: a failed attempt, retried.)
    if (errno != EINPROGRESS) throw ConnectError(errno_reason(errno), false);
    return {std::move(fd), true};
}

std::string connect_error(int fd) {
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    return error == 0 ? std::string() : errno_reason(error);
}

}  // namespace analytics::redis
