#include "engine.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <malloc.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <span>
#include <system_error>
#include <utility>

namespace analytics::redis {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 64 * 1024;
// Reads per turn of the event loop: a reply that streams in faster than it
// is parsed must not keep the loop from timeouts, new requests and stop().
constexpr int kReadsPerTurn = 16;
// After freeing a reply this large, hand free heap pages back to the system:
// glibc raises its mmap threshold after big frees, so large buffers end up
// on the heap and would otherwise stay resident.
constexpr std::size_t kTrimAfterBytes = std::size_t{16} << 20;
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);

Fd checked(int fd, const char* what) {
    if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
    return Fd(fd);
}

void release_free_memory() {
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
}

}  // namespace

std::shared_ptr<Engine> Engine::start(Endpoint endpoint, EngineOptions options) {
    auto transport = connect_and_handshake(endpoint, options.connect_timeout, options.make_transport);
    auto engine = std::make_shared<Engine>(Key{}, std::move(endpoint), options, std::move(transport));
    engine->launch();
    return engine;
}

std::shared_ptr<Engine> Engine::start_in_background(Endpoint endpoint, EngineOptions options) {
    auto engine = std::make_shared<Engine>(Key{}, std::move(endpoint), options, nullptr);
    engine->first_attempt_ = true;  // before the thread exists: no lock needed
    engine->launch();
    return engine;
}

void Engine::launch() {
    // The thread keeps the engine alive until it has answered every caller.
    std::thread([self = shared_from_this()] { self->run(); }).detach();
}

Engine::Engine(Key, Endpoint endpoint, EngineOptions options, std::unique_ptr<Transport> transport)
    : endpoint_(std::move(endpoint)),
      options_(std::move(options)),
      transport_(std::move(transport)),
      epoll_(checked(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")),
      wake_fd_(checked(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd")),
      reader_(make_reader()),
      target_(options.max_reply_bytes) {
    if (!reader_) throw std::bad_alloc();
    epoll_event wake{};
    wake.events = EPOLLIN;
    wake.data.fd = wake_fd_.get();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &wake);
    if (transport_) {
        epoll_event sock{};
        sock.events = EPOLLIN;
        sock.data.fd = transport_->fd();
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, transport_->fd(), &sock);
        connected_ = true;
    }
    live_engines.fetch_add(1, std::memory_order_relaxed);
}

Engine::~Engine() { live_engines.fetch_sub(1, std::memory_order_relaxed); }

std::optional<FailureKind> Engine::submit(Request&& request) {
    bool waiting;
    {
        const std::lock_guard lock(mutex_);
        if (stopping_ || (!connected_ && !first_attempt_)) return FailureKind::closed;
        inbox_.push_back(std::move(request));
        ++pending_;
        waiting = std::exchange(waiting_, false);
    }
    // A busy IO thread takes the inbox on its next turn: under load this
    // saves the calling scheduler a syscall per request.
    if (waiting) wake();
    return std::nullopt;
}

void Engine::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake();
}

std::optional<Engine::NotConnected> Engine::not_connected() {
    const std::lock_guard lock(mutex_);
    if (stopping_ || connected_) return std::nullopt;
    return NotConnected{endpoint_address(endpoint_), last_attempt_};
}

void Engine::wake() {
    const std::uint64_t one = 1;
    // A full counter already means "wake up"; nothing to handle.
    [[maybe_unused]] const ssize_t written = ::write(wake_fd_.get(), &one, sizeof(one));
}

// Sleeps for `duration`, returning early when woken (stop(), a dead caller).
void Engine::sleep_unless_woken(std::chrono::milliseconds duration) {
    const auto until = Clock::now() + duration;
    for (auto left = duration; left.count() > 0;
         left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now())) {
        pollfd wake{wake_fd_.get(), POLLIN, 0};
        if (::poll(&wake, 1, static_cast<int>(left.count())) <= 0) return;
        std::uint64_t count;
        [[maybe_unused]] const ssize_t drained = ::read(wake_fd_.get(), &count, sizeof(count));
        const std::lock_guard lock(mutex_);
        if (stopping_) return;
    }
}

void Engine::run() {
    // Started in the background: the first attempt is made at once.
    bool running = transport_ || reconnect_with_backoff(false);
    while (running) {
        serve_connection();
        running = reconnect_with_backoff(true);
    }
    // Close now: whoever still holds the engine (a stale registration of a
    // killed connection process) must not keep a socket open on the server.
    transport_.reset();
    take_inbox();
    fail_in_flight(FailureKind::closed);
}

void Engine::take_inbox() {
    std::vector<Request> arrived;
    {
        const std::lock_guard lock(mutex_);
        arrived.swap(inbox_);
    }
    if (in_flight_.empty() && !arrived.empty()) head_since_ = Clock::now();
    for (Request& request : arrived) {
        write_buffer_ += request.wire;
        request.wire = {};
        const std::size_t slots = request.slots.size();
        in_flight_.push_back(InFlight{std::move(request), slots, 0, {}, false, {}});
    }
}

// Whether the IO thread may block: not while requests wait in the inbox.
// Set under the lock that submit() takes, so no submission goes unseen.
bool Engine::start_waiting() {
    const std::lock_guard lock(mutex_);
    waiting_ = inbox_.empty();
    return waiting_;
}

void Engine::watch_transport() {
    const bool writable = write_waits_for_write_ || read_waits_for_write_;
    if (writable == watching_writes_) return;
    epoll_event event{};
    event.events = EPOLLIN | (writable ? EPOLLOUT : 0u);
    event.data.fd = transport_->fd();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, transport_->fd(), &event);
    watching_writes_ = writable;
}

// When the reply at the head of the line, which nobody waits for, has kept
// the connection long enough (see EngineOptions::late_reply_bound).
Clock::time_point Engine::late_reply_deadline() const {
    const InFlight& head = in_flight_.front();
    return std::max(head.answered_at, head_since_) + options_.late_reply_bound;
}

int Engine::next_timeout_ms() const {
    std::optional<Clock::time_point> next;
    for (const InFlight& f : in_flight_) {
        if (!f.answered && (!next || f.request.deadline < *next)) next = f.request.deadline;
    }
    if (!in_flight_.empty() && in_flight_.front().answered) {
        const auto late = late_reply_deadline();
        if (!next || late < *next) next = late;
    }
    if (!next) return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

void Engine::serve_connection() {
    epoll_event events[4];
    // A fresh connection's socket is watched for input only.
    watching_writes_ = read_waits_for_write_ = write_waits_for_write_ = more_to_read_ = false;
    for (;;) {
        // Bytes perhaps left unread: look, but do not block.
        const int timeout = more_to_read_ ? 0 : start_waiting() ? next_timeout_ms() : 0;
        const int ready = ::epoll_wait(epoll_.get(), events, 4, timeout);
        bool readable = more_to_read_;
        bool writable = false;
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.fd == wake_fd_.get()) {
                std::uint64_t count;
                [[maybe_unused]] const ssize_t drained = ::read(wake_fd_.get(), &count, sizeof(count));
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable = true;
            if (events[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable = true;
        }
        {
            const std::lock_guard lock(mutex_);
            waiting_ = false;
            if (stopping_) return;
        }
        take_inbox();
        if (!flush_writes()) return;
        if ((readable || (read_waits_for_write_ && writable)) && !read_replies()) return;
        if (!expire(Clock::now())) return;
        watch_transport();
    }
}

// A write cut short is retried with the same bytes at the same offset (the
// buffer may have grown since), as TLS requires.
bool Engine::flush_writes() {
    write_waits_for_write_ = false;
    while (write_offset_ < write_buffer_.size()) {
        const IoResult written = transport_->write(std::span<const char>(write_buffer_).subspan(write_offset_));
        switch (written.status) {
            case IoStatus::done: write_offset_ += written.bytes; break;
            case IoStatus::want_write: write_waits_for_write_ = true; return true;
            case IoStatus::want_read: return true;
            case IoStatus::closed:
            case IoStatus::failed: fail_in_flight(FailureKind::disconnected); return false;
        }
    }
    write_buffer_.clear();
    write_offset_ = 0;
    return true;
}

bool Engine::read_replies() {
    char buffer[kReadChunk];
    read_waits_for_write_ = more_to_read_ = false;
    for (int reads = 0; reads < kReadsPerTurn; ++reads) {
        const IoResult got = transport_->read(buffer);
        switch (got.status) {
            case IoStatus::done: break;
            case IoStatus::want_read: return true;
            case IoStatus::want_write: read_waits_for_write_ = true; return true;
            case IoStatus::closed:
            case IoStatus::failed: fail_in_flight(FailureKind::disconnected); return false;
        }
        redisReaderFeed(reader_.get(), buffer, got.bytes);
        // hiredis buffers a reply until it is complete: bound what it holds.
        if (reader_->len - reader_->pos > options_.max_reply_bytes) {
            fail_in_flight(FailureKind::reply_too_large);
            return false;
        }
        if (!parse_replies()) return false;
    }
    more_to_read_ = true;  // the next turn reads on without waiting
    return true;
}

bool Engine::parse_replies() {
    while (!in_flight_.empty()) {
        InFlight& front = in_flight_.front();
        if (front.answered) {
            target_.aim(nullptr, true);
        } else {
            auto& decoder = front.request.slots[front.next_slot].decoder;
            target_.aim(decoder ? &*decoder : nullptr, false);
        }
        set_reply_target(reader_.get(), &target_);
        void* root = nullptr;
        if (redisReaderGetReply(reader_.get(), &root) != REDIS_OK) {
            fail_in_flight(target_.budget.exceeded() ? FailureKind::reply_too_large : FailureKind::protocol_error);
            return false;
        }
        if (!root) return true;
        const std::size_t reply_bytes = target_.budget.used();
        if (!front.answered) take_reply(front);
        target_.reset();
        if (++front.next_slot == front.slot_count) {
            if (!front.answered) {
                front.request.caller->deliver(std::move(front.results));
                settle(front);
            }
            in_flight_.pop_front();
            head_since_ = Clock::now();
        }
        if (reply_bytes >= kTrimAfterBytes) release_free_memory();
    }
    // Bytes with no request waiting for them: the stream cannot be trusted.
    if (reader_->len > reader_->pos) {
        fail_in_flight(FailureKind::protocol_error);
        return false;
    }
    return true;
}

void Engine::take_reply(InFlight& front) {
    auto& decoder = front.request.slots[front.next_slot].decoder;
    if (!decoder) {
        front.results.emplace_back(std::move(target_.tree));
        return;
    }
    auto columns = decoder->finish();
    if (auto* error = std::get_if<std::string>(&columns)) {
        front.results.emplace_back(SlotError{std::move(*error)});
    } else if (auto* set = std::get_if<ColumnSet>(&columns)) {
        front.results.emplace_back(std::move(*set));
    } else {
        front.results.emplace_back(std::move(std::get<series::ColumnData>(columns)));
    }
}

// The caller is done with: answered, failed or abandoned. Its reply, if it
// still comes, is read and dropped.
void Engine::settle(InFlight& f) {
    f.request.caller.reset();
    f.request.slots = {};  // partly decoded columns go now
    f.results = {};
    f.answered = true;
    f.answered_at = Clock::now();
    --pending_;
}

// Answers callers whose time is up and drops those who left. False when the
// reply at the head of the line has outlived its caller by the bound: the
// connection must be reset.
bool Engine::expire(Clock::time_point now) {
    for (InFlight& f : in_flight_) {
        if (f.answered) continue;
        if (f.request.caller->abandoned()) {
            settle(f);
        } else if (f.request.deadline <= now) {
            f.request.caller->fail(FailureKind::timeout);
            settle(f);
        }
    }
    if (in_flight_.empty() || !in_flight_.front().answered || late_reply_deadline() > now) return true;
    fail_in_flight(FailureKind::disconnected);
    return false;
}

void Engine::fail_in_flight(FailureKind kind) {
    for (InFlight& f : in_flight_) {
        if (f.answered) continue;
        f.request.caller->fail(kind);
        settle(f);
    }
    in_flight_.clear();
    const bool large = target_.budget.used() >= kTrimAfterBytes;
    target_.reset();
    if (large) release_free_memory();
}

// Fails with `closed` every request not yet answered, and forgets the bytes
// not yet sent.
void Engine::drop_unsent() {
    take_inbox();
    fail_in_flight(FailureKind::closed);
    write_buffer_.clear();
    write_offset_ = 0;
}

bool Engine::reconnect_with_backoff(bool wait_first) {
    {
        const std::lock_guard lock(mutex_);
        if (stopping_) return false;
        connected_ = false;
    }
    transport_.reset();  // closing its socket also drops it from the epoll set
    reader_ = make_reader();
    // Requests accepted after the connection was lost and before submit saw
    // it; from here on submit refuses them itself. Their bytes go too: sent
    // on the next connection, their replies would arrive for nobody. (Before
    // the first attempt, the inbox holds the requests waiting for it.)
    if (wait_first) drop_unsent();

    std::mt19937 rng(std::random_device{}());
    auto backoff = kFirstBackoff;
    for (bool wait = wait_first;; wait = true) {
        if (wait) sleep_unless_woken(backoff + std::chrono::milliseconds(
                                                   std::uniform_int_distribution<long>(0, backoff.count() / 2)(rng)));
        {
            const std::lock_guard lock(mutex_);
            if (stopping_) return false;
        }
        try {
            transport_ = connect_and_handshake(endpoint_, options_.connect_timeout, options_.make_transport);
        } catch (const ConnectError& e) {
            bool was_first;
            {
                const std::lock_guard lock(mutex_);
                last_attempt_ = e;
                was_first = std::exchange(first_attempt_, false);
            }
            if (was_first) drop_unsent();
            backoff = std::min(backoff * 2, kMaxBackoff);
            continue;
        }
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = transport_->fd();
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, transport_->fd(), &event);
        const std::lock_guard lock(mutex_);
        connected_ = true;
        first_attempt_ = false;
        last_attempt_.reset();
        return true;
    }
}

}  // namespace analytics::redis
