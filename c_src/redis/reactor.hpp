// The reactor: a small fixed pool of IO threads, each running one epoll loop
// over many connections. A connection is a Handler attached to one reactor,
// not a thread: the reactor calls it back when its socket is ready, when it
// was woken from another thread, or when a timer it set comes due. No
// callback may block; every socket is non-blocking.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "resolver.hpp"
#include "socket.hpp"

namespace analytics::redis {

class Reactor;

class Handler {
public:
    virtual ~Handler() = default;
    // Its socket is ready (epoll events).
    virtual void on_io(std::uint32_t events) = 0;
    // Woken by attend() or a timer it set: look at its state again.
    virtual void on_turn() = 0;
    // The reactor is shutting down (the library is unloaded): end at once,
    // answering every caller. The reactor drops it afterwards.
    virtual void on_reactor_stop() = 0;

private:
    friend class Reactor;
    std::atomic<bool> attending_{false};  // queued for an on_turn already
};

class Reactor {
public:
    using Clock = std::chrono::steady_clock;

    Reactor();
    ~Reactor();
    Reactor(const Reactor&) = delete;
    Reactor& operator=(const Reactor&) = delete;

    // From any thread: run handler->on_turn() soon on the reactor thread,
    // attaching the handler first if it is new (the reactor then holds it
    // until detach()). A no-op once the reactor has stopped.
    void attend(const std::shared_ptr<Handler>& handler);

    // Whether the calling thread is this reactor's.
    bool on_reactor_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

    // Only on the reactor thread:
    // Watch `fd` for the handler: readable always, writable when asked.
    void watch(Handler& handler, int fd, bool writable);
    // Before closing `fd` (closing alone would do, but says it outright).
    void unwatch(int fd);
    // on_turn() at `when` (or soon after); a handler may set many.
    void at(Clock::time_point when, const std::shared_ptr<Handler>& handler);
    // Drops the reactor's reference once the current batch of events is done.
    void detach(Handler& handler);
    // How many handlers are attached (for tests).
    std::size_t attached() const { return attached_count_.load(); }

    // Stops the thread and joins it (the library is being unloaded): every
    // attached handler gets on_reactor_stop(). Not from the reactor thread.
    void stop();

private:
    void run();
    void take_attends(std::vector<std::shared_ptr<Handler>>& into);
    int next_timer_ms();
    void fire_timers();
    void release_detached();
    template <typename Call>
    void guarded(const std::shared_ptr<Handler>& handler, Call call);

    Fd epoll_;
    Fd wake_fd_;

    std::mutex mutex_;  // guards attends_, stopping_
    std::vector<std::shared_ptr<Handler>> attends_;
    bool stopping_ = false;

    // Owned by the reactor thread.
    std::unordered_map<Handler*, std::shared_ptr<Handler>> handlers_;
    std::vector<Handler*> detached_;
    using Timer = std::pair<Clock::time_point, std::weak_ptr<Handler>>;
    struct Later {
        bool operator()(const Timer& a, const Timer& b) const { return a.first > b.first; }
    };
    std::priority_queue<Timer, std::vector<Timer>, Later> timers_;
    std::atomic<std::size_t> attached_count_{0};

    std::thread thread_;  // last: starts once everything above exists
};

// The node's reactors, shared by every connection. Made on first use with
// `threads` threads (clamped to 1..the number of cores; later values are
// ignored) and never destroyed: on OTP 25 there is no on-halt hook, so a
// static destructor would run while these threads still run. stop_all()
// (the last library instance unloading) joins the threads.
class ReactorPool {
public:
    static ReactorPool& instance();
    // A reactor for a new connection, round-robin; starts the threads.
    Reactor& pick(unsigned threads);
    // The thread that resolves host names, started on first use.
    Resolver& resolver();
    // Joins every thread; a later pick() starts new ones.
    void stop_all();
    // IO threads running now.
    std::size_t threads();

private:
    ReactorPool() = default;
    std::mutex mutex_;
    // Stopped reactors are kept, not destroyed: a connection that outlives
    // stop_all() may still call attend() on its own, which is then a no-op.
    std::vector<std::unique_ptr<Reactor>> retired_;
    std::vector<std::unique_ptr<Reactor>> reactors_;
    std::vector<std::unique_ptr<Resolver>> retired_resolvers_;
    std::unique_ptr<Resolver> resolver_;
    std::size_t next_ = 0;
};

}  // namespace analytics::redis
