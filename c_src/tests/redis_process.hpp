// A throwaway redis-server for the Catch2 tests, on a free loopback port,
// killed on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "../redis/socket.hpp"

namespace analytics::test {

// A loopback port nothing listens on now.
std::uint16_t free_port();

// A connected non-blocking socket to the endpoint's host and port, waiting
// (in the test's thread) until `deadline`; fails the test otherwise.
redis::Fd connect_tcp(const redis::Endpoint& endpoint, std::chrono::steady_clock::time_point deadline);

class RedisProcess {
public:
    enum class Listen { plain, tls };

    // `extra` goes on its command line (say, --requirepass). With Listen::tls
    // the port speaks TLS only (--port 0 --tls-port P): `extra` must then
    // name the certificates (--tls-cert-file and friends).
    explicit RedisProcess(const std::vector<std::string>& extra = {}, Listen listen = Listen::plain);
    ~RedisProcess();
    RedisProcess(const RedisProcess&) = delete;
    RedisProcess& operator=(const RedisProcess&) = delete;

    std::uint16_t port() const { return port_; }
    redis::Endpoint endpoint() const {
        redis::Endpoint endpoint;
        endpoint.port = port_;
        return endpoint;
    }
    // SIGSTOP / SIGCONT: a server that reads and answers nothing meanwhile.
    void pause() const;
    void resume() const;

private:
    std::uint16_t port_;
    pid_t pid_ = 0;
};

}  // namespace analytics::test
