#include "connect.hpp"

#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <span>
#include <vector>

#include "command.hpp"
#include "plain_transport.hpp"
#include "reply.hpp"

namespace analytics::redis {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kHandshakeReplyBytes = 64 * 1024;

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// `timeout_reason` says what was being waited for when time ran out.
void wait_for(int fd, short events, Clock::time_point deadline, const char* timeout_reason = "timeout") {
    pollfd p{fd, events, 0};
    for (;;) {
        const int ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready > 0) return;
        if (ready == 0) throw ConnectError(timeout_reason, false);
        if (errno != EINTR) throw ConnectError(errno_reason(errno), false);
    }
}

struct AddrInfoFree {
    void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

// Runs a transport operation until it is done, waiting on the socket as it
// asks; a failure or the deadline throws.
IoResult complete(Transport& transport, const std::function<IoResult()>& operation, Clock::time_point deadline,
                  const char* timeout_reason = "timeout") {
    for (;;) {
        IoResult result = operation();
        switch (result.status) {
            case IoStatus::done: return result;
            case IoStatus::want_read: wait_for(transport.fd(), POLLIN, deadline, timeout_reason); break;
            case IoStatus::want_write: wait_for(transport.fd(), POLLOUT, deadline, timeout_reason); break;
            case IoStatus::closed: throw ConnectError("closed", false);
            case IoStatus::failed: throw ConnectError(result.error, false);
        }
    }
}

void send_all(Transport& transport, const std::string& bytes, Clock::time_point deadline) {
    for (std::size_t sent = 0; sent < bytes.size();) {
        sent += complete(
                    transport,
                    [&] { return transport.write(std::span<const char>(bytes).subspan(sent)); }, deadline)
                    .bytes;
    }
}

// Runs one command and checks its reply is not an error.
void expect_ok(Transport& transport, const std::vector<std::string>& args, Clock::time_point deadline) {
    send_all(transport, format_command(args), deadline);
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
        const IoResult got = complete(transport, [&] { return transport.read(buffer); }, deadline);
        redisReaderFeed(reader.get(), buffer, got.bytes);
    }
}

}  // namespace

Fd connect_tcp(const Endpoint& endpoint, Clock::time_point deadline) {
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

std::unique_ptr<Transport> connect_and_handshake(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                                                 const TransportFactory& make_transport) {
    const auto deadline = Clock::now() + timeout;
    Fd fd = connect_tcp(endpoint, deadline);
    std::unique_ptr<Transport> transport;
    // This may run on the IO thread, where nothing but a ConnectError is
    // expected: whatever the factory throws becomes one.
    try {
        transport = make_transport ? make_transport(std::move(fd)) : std::make_unique<PlainTransport>(std::move(fd));
    } catch (const std::exception& e) {
        throw ConnectError(e.what(), false);
    }
    // A TLS client that reached a plain port may wait for an answer that
    // never comes: the server reads the ClientHello as a command line.
    complete(*transport, [&] { return transport->handshake(); }, deadline,
             "timeout during the TLS handshake (is the server speaking TLS on this port?)");
    if (!endpoint.password.empty()) {
        if (endpoint.username.empty()) {
            expect_ok(*transport, {"AUTH", endpoint.password}, deadline);
        } else {
            expect_ok(*transport, {"AUTH", endpoint.username, endpoint.password}, deadline);
        }
    }
    if (endpoint.database != 0) expect_ok(*transport, {"SELECT", std::to_string(endpoint.database)}, deadline);
    // In TLS 1.3 the client's handshake is over before the server has judged
    // the client's certificate: its refusal arrives with the first reply. A
    // PING makes the connect report it, as it reports any other TLS failure.
    if (make_transport && endpoint.password.empty() && endpoint.database == 0) {
        expect_ok(*transport, {"PING"}, deadline);
    }
    return transport;
}

}  // namespace analytics::redis
