// Connecting to Redis: the TCP connect, then the blocking handshake (TLS if
// the transport speaks it, AUTH, SELECT) that both the first connect and
// every reconnect run.
#pragma once

#include <chrono>
#include <memory>

#include "socket.hpp"
#include "transport.hpp"

namespace analytics::redis {

// Resolves and connects by `deadline`; the socket comes back non-blocking.
// Throws ConnectError.
Fd connect_tcp(const Endpoint& endpoint, std::chrono::steady_clock::time_point deadline);

// Connects, makes the transport (PlainTransport when `make_transport` is
// empty), runs its handshake and then AUTH and SELECT, all within `timeout`.
// Throws ConnectError.
std::unique_ptr<Transport> connect_and_handshake(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                                                 const TransportFactory& make_transport = {});

}  // namespace analytics::redis
