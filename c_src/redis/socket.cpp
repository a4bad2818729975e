#include "socket.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "command.hpp"
#include "reply.hpp"

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

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kHandshakeReplyBytes = 64 * 1024;

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

void wait_for(int fd, short events, Clock::time_point deadline) {
    pollfd p{fd, events, 0};
    for (;;) {
        const int ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready > 0) return;
        if (ready == 0) throw ConnectError("timeout", false);
        if (errno != EINTR) throw ConnectError(errno_reason(errno), false);
    }
}

struct AddrInfoFree {
    void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

Fd connect_socket(const Endpoint& endpoint, Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    if (const int status = getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); status != 0) {
        throw ConnectError(std::string("cannot resolve ") + endpoint.host + ": " + gai_strerror(status), false);
    }
    const std::unique_ptr<addrinfo, AddrInfoFree> addresses(found);
    std::string last_error = "no address";
    for (addrinfo* a = addresses.get(); a; a = a->ai_next) {
        Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
        if (!fd) continue;
        if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last_error = errno_reason(errno);
                continue;
            }
            wait_for(fd.get(), POLLOUT, deadline);
            int error = 0;
            socklen_t length = sizeof(error);
            ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0) {
                last_error = errno_reason(error);
                continue;
            }
        }
        const int one = 1;
        ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fd;
    }
    throw ConnectError(last_error, false);
}

void send_all(int fd, const std::string& bytes, Clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_for(fd, POLLOUT, deadline);
        } else if (n < 0 && errno != EINTR) {
            throw ConnectError(errno_reason(errno), false);
        }
    }
}

// Runs one command and checks its reply is not an error.
void expect_ok(int fd, const std::vector<std::string>& args, Clock::time_point deadline) {
    send_all(fd, format_command(args), deadline);
    const Reader reader = make_reader();
    // AUTH and SELECT answer +OK or an error line.
    ReplyTarget target(kHandshakeReplyBytes);
    set_reply_target(reader.get(), &target);
    char buffer[4096];
    for (;;) {
        void* root = nullptr;
        if (redisReaderGetReply(reader.get(), &root) != REDIS_OK) throw ConnectError("protocol_error", false);
        if (root) {
            const ReplyTree& reply = target.tree;
            if (reply.root().type == ReplyTree::Type::error) throw ConnectError(std::string(reply.text(reply.root())), true);
            return;
        }
        wait_for(fd, POLLIN, deadline);
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n == 0) throw ConnectError("closed", false);
        if (n < 0 && errno != EINTR && errno != EAGAIN) throw ConnectError(errno_reason(errno), false);
        if (n > 0) redisReaderFeed(reader.get(), buffer, static_cast<std::size_t>(n));
    }
}

}  // namespace

Fd connect_and_handshake(const Endpoint& endpoint, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    Fd fd = connect_socket(endpoint, deadline);
    if (!endpoint.password.empty()) {
        if (endpoint.username.empty()) {
            expect_ok(fd.get(), {"AUTH", endpoint.password}, deadline);
        } else {
            expect_ok(fd.get(), {"AUTH", endpoint.username, endpoint.password}, deadline);
        }
    }
    if (endpoint.database != 0) expect_ok(fd.get(), {"SELECT", std::to_string(endpoint.database)}, deadline);
    return fd;
}

}  // namespace analytics::redis
