#include "engine.hpp"

#include <sys/epoll.h>
#include <malloc.h>

#include <algorithm>
#include <utility>

namespace analytics::redis {

namespace {

using Clock = std::chrono::steady_clock;

// Reads per turn: a reply that streams in faster than it is parsed must not
// keep the reactor from its other connections, timeouts and stop().
constexpr int kReadsPerTurn = 16;
// After freeing a reply this large, hand free heap pages back to the system:
// glibc raises its mmap threshold after big frees, so large buffers end up
// on the heap and would otherwise stay resident.
constexpr std::size_t kTrimAfterBytes = std::size_t{16} << 20;

void release_free_memory() {
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
}

}  // namespace

std::shared_ptr<Engine> Engine::start_in_background(Endpoint endpoint, EngineOptions options) {
    Reactor& reactor = ReactorPool::instance().pick(options.io_threads);
    auto engine = std::make_shared<Engine>(Key{}, std::move(endpoint), std::move(options), reactor);
    engine->first_attempt_ = true;  // before the reactor knows it: no lock needed
    reactor.attend(engine);         // attaches it; its first turn starts connecting
    return engine;
}

std::shared_ptr<Engine> Engine::start(Endpoint endpoint, EngineOptions options) {
    // The reactor bounds the attempt by the connect timeout; the margin only
    // guards against a reactor that stopped under us (the library unloading).
    const auto limit = options.connect_timeout + std::chrono::seconds(5);
    auto engine = start_in_background(std::move(endpoint), std::move(options));
    std::optional<ConnectError> failure;
    {
        std::unique_lock lock(engine->mutex_);
        engine->first_attempt_over_.wait_for(lock, limit, [&] { return !engine->first_attempt_; });
        if (!engine->connected_) failure = engine->last_attempt_.value_or(ConnectError("timeout", false));
    }
    if (failure) {
        engine->stop();
        throw *failure;
    }
    return engine;
}

Engine::Engine(Key, Endpoint endpoint, EngineOptions options, Reactor& reactor)
    : endpoint_(std::move(endpoint)),
      options_(std::move(options)),
      reactor_(reactor),
      reader_(make_reader()),
      target_(options_.max_reply_bytes),
      receiver_(options_.max_reply_bytes) {
    if (!reader_) throw std::bad_alloc();
    live_engines.fetch_add(1, std::memory_order_relaxed);
}

Engine::~Engine() { live_engines.fetch_sub(1, std::memory_order_relaxed); }

std::optional<FailureKind> Engine::submit(Request&& request) {
    bool attend = false;
    {
        const std::lock_guard lock(mutex_);
        if (stopping_ || (!connected_ && !first_attempt_)) return FailureKind::closed;
        ++pending_;
        // The reactor must see this deadline in time.
        attend = request.deadline < armed_at_;
        std::size_t sent = 0;
        if (connected_ && outbox_.empty()) {
            // Nothing queued before it: write it from here, once, without waiting.
            const IoResult result = transport_->write(request.wire);
            if (result.status == IoStatus::done) sent = result.bytes;
        }
        if (sent < request.wire.size()) {
            // The rest goes to the reactor: a full socket buffer, a failed
            // send (the reactor sees the error), or not connected yet.
            const bool was_empty = outbox_.empty();
            outbox_.append(request.wire, sent);
            attend = attend || (was_empty && connected_);
        }
        request.wire = {};
        inbox_.push_back(std::move(request));
    }
    if (attend) reactor_.attend(shared_from_this());
    return std::nullopt;
}

void Engine::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    reactor_.attend(shared_from_this());
}

void Engine::wake() { reactor_.attend(shared_from_this()); }

std::optional<Engine::NotConnected> Engine::not_connected() {
    const std::lock_guard lock(mutex_);
    if (stopping_ || connected_) return std::nullopt;
    return NotConnected{endpoint_address(endpoint_), last_attempt_};
}

void Engine::on_io(std::uint32_t events) {
    if (state_ != State::stopped) step(events);
}

void Engine::on_turn() {
    // Attended after it stopped (a second stop(), from the resource's
    // destructor): the reactor attached it again; let it go again.
    if (state_ == State::stopped) return reactor_.detach(*this);
    step(0);
}

void Engine::on_reactor_stop() {
    if (state_ == State::stopped) return;
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    shut_down();
}

// One look at the connection: its socket's events (0 when woken or a timer
// came), then new requests, deadlines and what to wait for next.
void Engine::step(std::uint32_t events) {
    bool stopping;
    {
        const std::lock_guard lock(mutex_);
        stopping = stopping_;
    }
    if (stopping) {
        shut_down();
        return;
    }
    switch (state_) {
        case State::idle:
            if (Clock::now() >= retry_at_) begin_attempt();
            break;
        case State::resolving: take_resolved(); break;
        case State::connecting:
        case State::handshaking:
        case State::authenticating: advance_connect(events); break;
        case State::connected:
            if (const auto failure = serve(events)) lose_connection(*failure);
            break;
        case State::stopped: return;
    }
    const auto now = Clock::now();
    {
        const std::lock_guard lock(mutex_);
        take_inbox_locked();
    }
    if (!expire(now)) lose_connection(FailureKind::disconnected);
    if (connecting() && now >= attempt_deadline_) {
        // A TLS client that reached a plain port waits for an answer that
        // never comes: say so.
        attempt_failed(ConnectError(state_ == State::handshaking
                                        ? "timeout during the TLS handshake (is the server speaking TLS on this port?)"
                                        : "timeout",
                                    false));
    }
    rearm(now);
    if (state_ == State::connected) {
        bool unsent;
        {
            const std::lock_guard lock(mutex_);
            unsent = !outbox_.empty();
        }
        watch_writes(unsent || read_waits_for_write_);
        if (more_to_read_) reactor_.attend(shared_from_this());
    }
}

void Engine::shut_down() {
    std::unique_ptr<Transport> transport;
    {
        const std::lock_guard lock(mutex_);
        take_inbox_locked();
        connected_ = false;
        first_attempt_ = false;
        outbox_.clear();
        outbox_sent_ = 0;
        transport = std::move(transport_);
    }
    first_attempt_over_.notify_all();
    if (fd_ >= 0) reactor_.unwatch(fd_);
    fd_ = -1;
    connecting_ = Fd();
    transport.reset();
    fail_in_flight(FailureKind::closed);
    state_ = State::stopped;
    reactor_.detach(*this);
}

void Engine::watch_writes(bool writable) {
    if (writable == watching_writes_ || fd_ < 0) return;
    reactor_.watch(*this, fd_, writable);
    watching_writes_ = writable;
}

// Connected: send what waits, then read what came.
std::optional<FailureKind> Engine::serve(std::uint32_t events) {
    if (!flush_outbox()) return FailureKind::disconnected;
    const bool writable_for_read = read_waits_for_write_ && (events & EPOLLOUT);
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || more_to_read_ || writable_for_read) return read_replies();
    return std::nullopt;
}

// False when the socket failed.
bool Engine::flush_outbox() {
    const std::lock_guard lock(mutex_);
    while (outbox_sent_ < outbox_.size()) {
        const IoResult result = transport_->write(std::span(outbox_).subspan(outbox_sent_));
        if (result.status == IoStatus::done) {
            outbox_sent_ += result.bytes;
        } else if (result.status == IoStatus::want_write || result.status == IoStatus::want_read) {
            return true;
        } else {
            return false;
        }
    }
    outbox_.clear();
    outbox_sent_ = 0;
    return true;
}

// The read path: bytes from the transport into the reply reader, and
// complete replies to their callers. Something when the connection must be
// reset.
std::optional<FailureKind> Engine::read_replies() {
    more_to_read_ = false;
    read_waits_for_write_ = false;
    for (int reads = 0; reads < kReadsPerTurn; ++reads) {
        IoResult result;
        {
            const std::lock_guard lock(mutex_);
            result = transport_->read(receiver_.next_buffer());
            // Every request whose bytes went out before these came back.
            take_inbox_locked();
        }
        if (result.status == IoStatus::want_read) return std::nullopt;
        if (result.status == IoStatus::want_write) {
            read_waits_for_write_ = true;
            return std::nullopt;
        }
        if (result.status != IoStatus::done) return FailureKind::disconnected;
        receiver_.received(result.bytes);
        if (const auto failure = parse_replies()) return failure;
    }
    more_to_read_ = true;  // step() asks for another turn
    return std::nullopt;
}

std::optional<FailureKind> Engine::parse_replies() {
    while (!in_flight_.empty()) {
        InFlight& front = in_flight_.front();
        ColumnDecoder* decoder = nullptr;
        if (!front.answered) {
            auto& slot = front.request.slots[front.next_slot].decoder;
            decoder = slot ? &*slot : nullptr;
        }
        const auto status = receiver_.next_reply(decoder, front.answered);
        if (status == ReplyReceiver::Status::incomplete) return std::nullopt;
        if (status == ReplyReceiver::Status::too_large) return FailureKind::reply_too_large;
        if (status == ReplyReceiver::Status::protocol_error) return FailureKind::protocol_error;
        const std::size_t reply_bytes = receiver_.target().budget.used();
        if (!front.answered) take_reply(front);
        receiver_.end_reply();
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
    if (receiver_.holds_bytes()) return FailureKind::protocol_error;
    return std::nullopt;
}

void Engine::take_reply(InFlight& front) {
    auto& decoder = front.request.slots[front.next_slot].decoder;
    if (!decoder) {
        front.results.emplace_back(receiver_.take_tree());
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

// Under mutex_: accepted requests join the line, in the order their bytes
// were queued; a deadline earlier than the armed one gets a timer.
void Engine::take_inbox_locked() {
    if (inbox_.empty()) return;
    if (in_flight_.empty()) head_since_ = Clock::now();
    for (Request& request : inbox_) {
        if (request.deadline < armed_at_) {
            armed_at_ = request.deadline;
            reactor_.at(request.deadline, shared_from_this());
        }
        const std::size_t slots = request.slots.size();
        in_flight_.push_back(InFlight{std::move(request), slots, 0, {}, false, {}});
    }
    inbox_.clear();
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

// When the reply at the head of the line, which nobody waits for, has kept
// the connection long enough (see EngineOptions::late_reply_bound).
Clock::time_point Engine::late_reply_deadline() const {
    const InFlight& head = in_flight_.front();
    return std::max(head.answered_at, head_since_) + options_.late_reply_bound;
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
    if (state_ != State::connected || in_flight_.empty() || !in_flight_.front().answered) return true;
    return late_reply_deadline() > now;
}

void Engine::arm(Clock::time_point when) {
    {
        const std::lock_guard lock(mutex_);
        if (when >= armed_at_) return;
        armed_at_ = when;
    }
    reactor_.at(when, shared_from_this());
}

// Keeps a timer set for the earliest deadline. Scanning every request is
// done only once the armed time has come; before it, new requests lowered
// it as they joined (take_inbox_locked) and the late-reply deadline is
// checked here, as it moves with the head of the line.
void Engine::rearm(Clock::time_point now) {
    bool due;
    {
        const std::lock_guard lock(mutex_);
        due = armed_at_ <= now;
        // Until re-armed below, every submission wakes the reactor.
        if (due) armed_at_ = Clock::time_point::max();
    }
    if (due) {
        for (const InFlight& f : in_flight_) {
            if (!f.answered) arm(f.request.deadline);
        }
    }
    if (state_ == State::connected && !in_flight_.empty() && in_flight_.front().answered) arm(late_reply_deadline());
}

void Engine::fail_in_flight(FailureKind kind) {
    for (InFlight& f : in_flight_) {
        if (f.answered) continue;
        f.request.caller->fail(kind);
        settle(f);
    }
    in_flight_.clear();
    const bool large = receiver_.target().budget.used() >= kTrimAfterBytes;
    receiver_.end_reply();
    if (large) release_free_memory();
}

// The connection broke or must be reset: every request accepted so far
// fails with `kind` (their bytes are dropped: sent on the next connection,
// their replies would come for nobody), and a retry is scheduled.
void Engine::lose_connection(FailureKind kind) {
    if (state_ != State::connected) return;
    std::unique_ptr<Transport> transport;
    {
        const std::lock_guard lock(mutex_);
        connected_ = false;
        take_inbox_locked();
        outbox_.clear();
        outbox_sent_ = 0;
        transport = std::move(transport_);
    }
    reactor_.unwatch(fd_);
    fd_ = -1;
    watching_writes_ = false;
    read_waits_for_write_ = false;
    more_to_read_ = false;
    transport.reset();
    fail_in_flight(kind);
    schedule_retry();
}

}  // namespace analytics::redis
