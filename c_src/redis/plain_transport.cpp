#include "plain_transport.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace analytics::redis {

IoResult PlainTransport::read(std::span<char> into) {
    for (;;) {
        const ssize_t n = ::recv(socket_.get(), into.data(), into.size(), 0);
        if (n > 0) return {IoStatus::done, static_cast<std::size_t>(n), {}};
        if (n == 0) return {IoStatus::closed, 0, {}};
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::want_read, 0, {}};
        if (errno != EINTR) return {IoStatus::failed, 0, errno_reason(errno)};
    }
}

IoResult PlainTransport::write(std::span<const char> from) {
    for (;;) {
        // MSG_NOSIGNAL: a peer gone away is an error here, not SIGPIPE.
        const ssize_t n = ::send(socket_.get(), from.data(), from.size(), MSG_NOSIGNAL);
        if (n >= 0) return {IoStatus::done, static_cast<std::size_t>(n), {}};
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::want_write, 0, {}};
        if (errno != EINTR) return {IoStatus::failed, 0, errno_reason(errno)};
    }
}

}  // namespace analytics::redis
