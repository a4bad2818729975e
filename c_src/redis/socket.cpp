#include "socket.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

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
    const bool v6 = endpoint.host.find(':') != std::string::npos;
    return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

}  // namespace analytics::redis
