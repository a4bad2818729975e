// Host name resolution off the reactor: getaddrinfo blocks, so names are
// resolved on one helper thread (started the first time a name, not an
// address, needs resolving) and the answer is handed back by callback.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "socket.hpp"

namespace analytics::redis {

class Resolver {
public:
    using Done = std::function<void(Resolved)>;

    Resolver();
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // `done` runs on the resolver thread, or never once stop() has begun.
    void resolve(Endpoint endpoint, Done done);
    // Joins the thread; queued names are dropped.
    void stop();

private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::pair<Endpoint, Done>> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace analytics::redis
