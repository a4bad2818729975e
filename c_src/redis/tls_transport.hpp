// TLS over a connected non-blocking socket (OpenSSL), behind the engine's
// Transport: the handshake checks the server's certificate and name; reads
// and writes report want_read / want_write as OpenSSL asks, since a TLS read
// may need the socket writable and a write may need it readable.
//
// One SSL object is one state machine: every call on a transport, reads
// and writes alike, must come from one thread at a time (a write from
// another thread needs the same lock as the reads). OpenSSL writes with
// write(2), so the host must ignore SIGPIPE, as the BEAM does.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "socket.hpp"
#include "tls_context.hpp"
#include "transport.hpp"

namespace analytics::redis {

struct TlsPeer {
    // What the server's certificate must name (when the context verifies):
    // the host connected to, or the server_name_indication given instead.
    std::string name;
    // Whether the ClientHello carries `name` as SNI; never for an IP address,
    // which SNI cannot carry.
    bool send_sni = true;
};

class TlsTransport final : public Transport {
public:
    // Takes the socket. Throws std::invalid_argument for a name OpenSSL
    // cannot check, std::bad_alloc when OpenSSL cannot allocate.
    TlsTransport(std::shared_ptr<const TlsContext> context, Fd socket, const TlsPeer& peer);
    ~TlsTransport() override;
    TlsTransport(const TlsTransport&) = delete;
    TlsTransport& operator=(const TlsTransport&) = delete;

    int fd() const override { return socket_.get(); }
    IoResult handshake() override;
    // Fills `into` as far as the records already received allow, so that no
    // decrypted byte waits inside OpenSSL while the caller waits on epoll.
    IoResult read(std::span<char> into) override;
    IoResult write(std::span<const char> from) override;

private:
    // What an OpenSSL call that returned `result` <= 0 means; `during`
    // prefixes a failure's message.
    IoResult outcome(int result, const char* during);

    struct Free {
        void operator()(SSL* ssl) const { SSL_free(ssl); }
    };
    std::shared_ptr<const TlsContext> context_;  // outlives the SSL made from it
    Fd socket_;
    std::unique_ptr<SSL, Free> ssl_;
    bool failed_ = false;  // after a fatal error OpenSSL forbids SSL_shutdown
};

}  // namespace analytics::redis
