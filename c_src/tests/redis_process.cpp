#include "redis_process.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

extern char** environ;

namespace analytics::test {

using redis::Fd;

namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
}

// A TCP connect is all a TLS port and a plain one have in common.
bool listening(std::uint16_t port) {
    const Fd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in address = loopback(port);
    return ::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
}

}  // namespace

std::uint16_t free_port() {
    const Fd socket(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in address = loopback(0);
    REQUIRE(::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
    return ntohs(address.sin_port);
}

RedisProcess::RedisProcess(const std::vector<std::string>& extra, Listen listen) : port_(free_port()) {
    using namespace std::chrono_literals;
    const std::string port = std::to_string(port_);
    std::vector<std::string> args{"redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"};
    if (listen == Listen::tls) {
        args.insert(args.end(), {"--port", "0", "--tls-port", port});
    } else {
        args.insert(args.end(), {"--port", port});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    // Its log would bury the test report.
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&quiet, STDOUT_FILENO, STDERR_FILENO);
    const int spawned = posix_spawnp(&pid_, "redis-server", &quiet, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&quiet);
    REQUIRE(spawned == 0);
    for (int tries = 0; tries < 200; ++tries) {
        if (listening(port_)) return;
        std::this_thread::sleep_for(25ms);
    }
    FAIL("redis-server did not start on port " << port_);
}

RedisProcess::~RedisProcess() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

void RedisProcess::pause() const { ::kill(pid_, SIGSTOP); }
void RedisProcess::resume() const { ::kill(pid_, SIGCONT); }

redis::Fd connect_tcp(const redis::Endpoint& endpoint, std::chrono::steady_clock::time_point deadline) {
    const redis::Resolved resolved = redis::resolve_blocking(endpoint);
    REQUIRE_FALSE(resolved.addresses.empty());
    redis::Connecting connecting = redis::start_connect(resolved.addresses.front());
    if (connecting.in_progress) {
        pollfd writable{connecting.socket.get(), POLLOUT, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        REQUIRE(::poll(&writable, 1, static_cast<int>(std::max<long>(0, left.count()))) == 1);
        REQUIRE(redis::connect_error(connecting.socket.get()).empty());
    }
    return std::move(connecting.socket);
}

}  // namespace analytics::test
