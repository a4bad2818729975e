// The physical limit a Redis client can reach on this machine: one command
// sent on a plain blocking socket, and exactly its reply's bytes read into a
// warm buffer, nothing decoded. bench/redis_bench.exs runs it as a port and
// pairs its samples with Analytics.Redis's on the same server.
//
//   redis_socket_bench PORT ARG...   e.g. redis_socket_bench 6379 GET packed64m
//
// Every line on stdin takes one sample and prints its microseconds; the
// reply's length is learnt once, from a first reply framed here.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../c_src/redis/command.hpp"

namespace {

int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

void send_all(int fd, const std::string& wire) {
    for (std::size_t sent = 0; sent < wire.size();) {
        const ssize_t n = ::send(fd, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("send failed");
        sent += static_cast<std::size_t>(n);
    }
}

void recv_exactly(int fd, char* into, std::size_t bytes) {
    for (std::size_t got = 0; got < bytes;) {
        const ssize_t n = ::recv(fd, into + got, bytes - got, 0);
        if (n <= 0) throw std::runtime_error("connection closed mid-reply");
        got += static_cast<std::size_t>(n);
    }
}

// Where the reply that starts at `at` ends, or npos while `wire` holds only
// part of it. Enough RESP2 for a reference: bulk, line and array replies.
std::size_t reply_end(const std::string& wire, std::size_t at) {
    const std::size_t line_end = wire.find("\r\n", at);
    if (line_end == std::string::npos) return std::string::npos;
    const long long count = std::atoll(wire.c_str() + at + 1);
    switch (wire[at]) {
        case '$': {
            if (count < 0) return line_end + 2;
            const std::size_t end = line_end + 2 + static_cast<std::size_t>(count) + 2;
            return end <= wire.size() ? end : std::string::npos;
        }
        case '*': {
            std::size_t next = line_end + 2;
            for (long long i = 0; i < count && next != std::string::npos; ++i) next = reply_end(wire, next);
            return next;
        }
        default: return line_end + 2;
    }
}

std::size_t learn_reply_length(int fd, const std::string& command) {
    send_all(fd, command);
    std::string wire;
    std::vector<char> chunk(1 << 20);
    for (;;) {
        const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
        if (n <= 0) throw std::runtime_error("connection closed before the first reply");
        wire.append(chunk.data(), static_cast<std::size_t>(n));
        const std::size_t end = reply_end(wire, 0);
        if (end != std::string::npos) return end;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s PORT ARG...\n", argv[0]);
        return 2;
    }
    try {
        const int fd = connect_to(std::atoi(argv[1]));
        const std::string command = analytics::redis::format_command(std::vector<std::string>(argv + 2, argv + argc));
        const std::size_t length = learn_reply_length(fd, command);
        // Warm: written once in full, so no sample pays for first touch.
        std::vector<char> buffer(length, 1);
        for (std::string line; std::getline(std::cin, line);) {
            const auto start = std::chrono::steady_clock::now();
            send_all(fd, command);
            recv_exactly(fd, buffer.data(), length);
            const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
            std::printf("%.1f %zu\n", took.count(), length);
            std::fflush(stdout);
        }
        ::close(fd);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "redis_socket_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
