// Certificates for the TLS tests, made once per run by
// test/support/make_tls_certs.sh (the script the ExUnit tests use) in a
// temporary directory removed when the tests end.
#pragma once

#include <string>
#include <vector>

namespace analytics::test {

// The path of one of the run's files: "ca.crt", "server.key", ...
std::string tls_file(const char* name);

// The command line of a redis-server speaking TLS with `cert`.crt and .key,
// trusting ca.crt for client certificates; `auth_clients` as Redis takes it.
std::vector<std::string> tls_server_args(const char* auth_clients = "no", const char* cert = "server");

}  // namespace analytics::test
