#include "reactor.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace analytics::redis {

namespace {

Fd checked(int fd, const char* what) {
    if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
    return Fd(fd);
}

constexpr int kEventsPerWait = 64;

}  // namespace

Reactor::Reactor()
    : epoll_(checked(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")),
      wake_fd_(checked(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd")) {
    epoll_event wake{};
    wake.events = EPOLLIN;
    wake.data.ptr = nullptr;  // the one event that is no handler's
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &wake) != 0) {
        throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    }
    thread_ = std::thread([this] { run(); });
}

Reactor::~Reactor() {
    if (thread_.joinable()) stop();
}

void Reactor::attend(const std::shared_ptr<Handler>& handler) {
    if (handler->attending_.exchange(true)) return;  // already queued
    bool first;
    {
        const std::lock_guard lock(mutex_);
        if (stopping_) {
            handler->attending_ = false;
            return;
        }
        first = attends_.empty();
        attends_.push_back(handler);
    }
    // Whoever made the queue non-empty wakes the thread; the rest find it awake.
    if (first) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = ::write(wake_fd_.get(), &one, sizeof(one));
    }
}

void Reactor::watch(Handler& handler, int fd, bool writable) {
    epoll_event event{};
    event.events = EPOLLIN | (writable ? EPOLLOUT : 0u);
    event.data.ptr = &handler;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0 && errno == ENOENT) {
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
    }
}

void Reactor::unwatch(int fd) { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void Reactor::at(Clock::time_point when, const std::shared_ptr<Handler>& handler) { timers_.emplace(when, handler); }

void Reactor::detach(Handler& handler) { detached_.push_back(&handler); }

void Reactor::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wake_fd_.get(), &one, sizeof(one));
    thread_.join();
}

int Reactor::next_timer_ms() {
    if (timers_.empty()) return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(timers_.top().first - Clock::now()).count();
    return left > 0 ? static_cast<int>(std::min<long long>(left, 1 << 30)) : 0;
}

void Reactor::take_attends(std::vector<std::shared_ptr<Handler>>& into) {
    const std::lock_guard lock(mutex_);
    into.swap(attends_);
}

void Reactor::fire_timers() {
    const auto now = Clock::now();
    std::vector<std::shared_ptr<Handler>> due;
    while (!timers_.empty() && timers_.top().first <= now) {
        if (auto handler = timers_.top().second.lock()) due.push_back(std::move(handler));
        timers_.pop();
    }
    // Called after popping: a handler may set its next timer from on_turn.
    for (const auto& handler : due) {
        if (handlers_.contains(handler.get())) guarded(handler, [&] { handler->on_turn(); });
    }
}

// A callback that throws (out of memory) must not end the thread, which
// would end the VM: that handler stops, answering its callers, and goes.
template <typename Call>
void Reactor::guarded(const std::shared_ptr<Handler>& handler, Call call) {
    try {
        call();
    } catch (...) {
        try {
            handler->on_reactor_stop();
        } catch (...) {
            // Nothing more can be done for it; it is dropped all the same.
        }
        detach(*handler);
    }
}

void Reactor::release_detached() {
    for (Handler* handler : detached_) handlers_.erase(handler);
    detached_.clear();
    attached_count_ = handlers_.size();
}

void Reactor::run() {
    epoll_event events[kEventsPerWait];
    std::vector<std::shared_ptr<Handler>> woken;
    for (;;) {
        const int ready = ::epoll_wait(epoll_.get(), events, kEventsPerWait, next_timer_ms());
        for (int i = 0; i < ready; ++i) {
            auto* handler = static_cast<Handler*>(events[i].data.ptr);
            if (!handler) {
                std::uint64_t count;
                [[maybe_unused]] const ssize_t drained = ::read(wake_fd_.get(), &count, sizeof(count));
            } else if (auto found = handlers_.find(handler); found != handlers_.end()) {
                // A handler detached earlier in this batch is still held
                // until the batch ends, and ignores the event itself.
                guarded(found->second, [&] { handler->on_io(events[i].events); });
            }
        }
        {
            const std::lock_guard lock(mutex_);
            if (stopping_) break;
        }
        take_attends(woken);
        for (auto& handler : woken) {
            handler->attending_ = false;
            handlers_.try_emplace(handler.get(), handler);
            guarded(handler, [&] { handler->on_turn(); });
        }
        woken.clear();
        fire_timers();
        release_detached();
    }
    // Shutting down: every handler answers its callers now.
    for (auto& [raw, handler] : handlers_) handler->on_reactor_stop();
    handlers_.clear();
    attached_count_ = 0;
    const std::lock_guard lock(mutex_);
    attends_.clear();
}

ReactorPool& ReactorPool::instance() {
    // Deliberately never destroyed (see the class comment).
    static ReactorPool* const pool = new ReactorPool();
    return *pool;
}

Reactor& ReactorPool::pick(unsigned threads) {
    const std::lock_guard lock(mutex_);
    if (reactors_.empty()) {
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        const unsigned count = std::clamp(threads, 1u, cores);
        for (unsigned i = 0; i < count; ++i) reactors_.push_back(std::make_unique<Reactor>());
    }
    return *reactors_[next_++ % reactors_.size()];
}

Resolver& ReactorPool::resolver() {
    const std::lock_guard lock(mutex_);
    if (!resolver_) resolver_ = std::make_unique<Resolver>();
    return *resolver_;
}

void ReactorPool::stop_all() {
    const std::lock_guard lock(mutex_);
    if (resolver_) {
        resolver_->stop();
        retired_resolvers_.push_back(std::move(resolver_));
    }
    for (auto& reactor : reactors_) {
        reactor->stop();
        retired_.push_back(std::move(reactor));
    }
    reactors_.clear();
}

std::size_t ReactorPool::threads() {
    const std::lock_guard lock(mutex_);
    return reactors_.size() + (resolver_ ? 1 : 0);
}

}  // namespace analytics::redis
