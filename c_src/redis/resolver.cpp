#include "resolver.hpp"

namespace analytics::redis {

Resolver::Resolver() : thread_([this] { run(); }) {}

Resolver::~Resolver() {
    if (thread_.joinable()) stop();
}

void Resolver::resolve(Endpoint endpoint, Done done) {
    {
        const std::lock_guard lock(mutex_);
        if (stopping_) return;
        queue_.emplace_back(std::move(endpoint), std::move(done));
    }
    wake_.notify_one();
}

void Resolver::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    wake_.notify_one();
    thread_.join();
}

void Resolver::run() {
    for (;;) {
        std::pair<Endpoint, Done> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job.second(resolve_blocking(job.first));
    }
}

}  // namespace analytics::redis
