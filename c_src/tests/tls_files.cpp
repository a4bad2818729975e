#include "tls_files.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>

namespace analytics::test {

namespace fs = std::filesystem;

namespace {

class Certificates {
public:
    Certificates() {
        std::string pattern = (fs::temp_directory_path() / "analytics-tls-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        const std::string command = std::string("bash ") + ANALYTICS_MAKE_TLS_CERTS + " " + dir_.string();
        REQUIRE(std::system(command.c_str()) == 0);
    }
    ~Certificates() { fs::remove_all(dir_); }
    Certificates(const Certificates&) = delete;
    Certificates& operator=(const Certificates&) = delete;

    std::string file(const char* name) const { return (dir_ / name).string(); }

private:
    fs::path dir_;
};

}  // namespace

std::string tls_file(const char* name) {
    static const Certificates made;
    return made.file(name);
}

std::vector<std::string> tls_server_args(const char* auth_clients, const char* cert) {
    const std::string base(cert);
    return {"--tls-cert-file",    tls_file((base + ".crt").c_str()),
            "--tls-key-file",     tls_file((base + ".key").c_str()),
            "--tls-ca-cert-file", tls_file("ca.crt"),
            "--tls-auth-clients", auth_clients};
}

}  // namespace analytics::test
