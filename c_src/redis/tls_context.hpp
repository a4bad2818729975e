// The TLS settings of one connection, loaded once into an OpenSSL SSL_CTX
// that every (re)connect of that connection shares. No erl_nif here: the NIF
// glue builds it from the options Analytics.Redis.Options validated.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace analytics::redis {

// Named as Erlang's :ssl names them.
struct TlsSettings {
    std::string cacertfile;  // PEM CA certificates to trust; empty: the system CA bundle
    std::string certfile;    // PEM client certificate (chain) for mutual TLS; empty: none
    std::string keyfile;     // PEM private key of certfile; empty: read from certfile
    bool verify_peer = true;
};

class TlsContext {
public:
    // Throws std::invalid_argument naming the file and OpenSSL's reason when
    // a file does not load (not PEM, key not matching the certificate, a key
    // with a passphrase, which is not supported).
    explicit TlsContext(const TlsSettings& settings);

    SSL_CTX* get() const { return context_.get(); }
    bool verify_peer() const { return verify_peer_; }

private:
    struct Free {
        void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
    };
    std::unique_ptr<SSL_CTX, Free> context_;
    bool verify_peer_;
};

// OpenSSL's reason for the last error on this thread's queue (or `fallback`),
// and the queue cleared.
std::string take_openssl_error(const char* fallback);

}  // namespace analytics::redis
