// Bytes straight over the socket: recv and send, non-blocking.
#pragma once

#include "socket.hpp"
#include "transport.hpp"

namespace analytics::redis {

class PlainTransport final : public Transport {
public:
    explicit PlainTransport(Fd socket) : socket_(std::move(socket)) {}
    int fd() const override { return socket_.get(); }
    IoResult handshake() override { return {IoStatus::done, 0, {}}; }
    IoResult read(std::span<char> into) override;
    IoResult write(std::span<const char> from) override;

private:
    Fd socket_;
};

}  // namespace analytics::redis
