#include "tls_context.hpp"

#include <openssl/err.h>

#include <new>
#include <stdexcept>

namespace analytics::redis {

namespace {

// OpenSSL would otherwise ask for a key's passphrase on the terminal, and a
// NIF must never wait for a human: an encrypted key fails to load instead,
// and `asked` (the userdata) says why.
int refuse_passphrase(char*, int, int, void* asked) {
    if (asked) *static_cast<bool*>(asked) = true;
    return -1;
}

[[noreturn]] void refuse(const std::string& what, const std::string& path) {
    throw std::invalid_argument("ssl: cannot load " + what + (path.empty() ? "" : " " + path) + ": " +
                                take_openssl_error("unknown error"));
}

}  // namespace

std::string take_openssl_error(const char* fallback) {
    const unsigned long code = ERR_peek_error();
    const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
    std::string text = reason ? reason : fallback;
    ERR_clear_error();
    return text;
}

TlsContext::TlsContext(const TlsSettings& settings)
    : context_(SSL_CTX_new(TLS_client_method())), verify_peer_(settings.verify_peer) {
    if (!context_) throw std::bad_alloc();
    SSL_CTX* context = context_.get();
    ERR_clear_error();
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    // The engine retries a write with the same bytes at the same offset of a
    // buffer that may have grown (and moved) since; writes may be partial.
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_passwd_cb(context, refuse_passphrase);

    if (settings.verify_peer) {
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
        if (!settings.cacertfile.empty()) {
            if (SSL_CTX_load_verify_locations(context, settings.cacertfile.c_str(), nullptr) != 1) {
                refuse("cacertfile", settings.cacertfile);
            }
        } else if (SSL_CTX_set_default_verify_paths(context) != 1) {
            refuse("the system CA bundle", "");
        }
    } else {
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
    }

    if (!settings.certfile.empty()) {
        if (SSL_CTX_use_certificate_chain_file(context, settings.certfile.c_str()) != 1) {
            refuse("certfile", settings.certfile);
        }
        const std::string& keyfile = settings.keyfile.empty() ? settings.certfile : settings.keyfile;
        bool asked_passphrase = false;
        SSL_CTX_set_default_passwd_cb_userdata(context, &asked_passphrase);
        // This also refuses a key that does not match the certificate.
        const bool loaded = SSL_CTX_use_PrivateKey_file(context, keyfile.c_str(), SSL_FILETYPE_PEM) == 1;
        SSL_CTX_set_default_passwd_cb_userdata(context, nullptr);
        if (asked_passphrase) {
            ERR_clear_error();
            throw std::invalid_argument("ssl: cannot load keyfile " + keyfile +
                                        ": it is protected by a passphrase, which is not supported");
        }
        if (!loaded) refuse("keyfile", keyfile);
    }
}

}  // namespace analytics::redis
