// How a connection moves bytes over its connected socket: plain TCP or a
// Unix socket today (PlainTransport), TLS through the same interface. Every
// call is non-blocking and says what it needs next instead of waiting.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "socket.hpp"

namespace analytics::redis {

enum class IoStatus { done, want_read, want_write, closed, failed };

// `bytes` moved when done; `error` says why when failed (a socket reason
// such as "econnreset", or the TLS library's message).
struct IoResult {
    IoStatus status;
    std::size_t bytes = 0;
    std::string error;
};

// One per connection, owned by the connection, used only on its reactor
// thread (and for the direct send from a scheduler under the connection's
// lock).
class Transport {
public:
    virtual ~Transport() = default;
    virtual int fd() const = 0;
    virtual IoResult handshake() = 0;  // after TCP connect; plain: done at once; TLS: drives SSL_connect
    virtual IoResult read(std::span<char> into) = 0;
    virtual IoResult write(std::span<const char> from) = 0;
};

// Makes a connection's transport from its freshly connected socket
// (EngineOptions::make_transport): how TLS plugs in. Empty: PlainTransport.
using TransportFactory = std::function<std::unique_ptr<Transport>(Fd socket)>;

}  // namespace analytics::redis
