// The IO engine: one connection to Redis, pipelining the requests of every
// caller. It is state on a reactor (reactor.hpp), not a thread: connecting,
// the handshake, reading replies and timeouts all run as callbacks on one of
// the node's few IO threads. A request to a connection with nothing queued
// is written at once from the submitting thread, with one non-blocking send
// (under the connection's lock); whatever does not fit goes to the reactor.
//
// Callers submit a Request (already formatted bytes plus how to decode each
// reply) and get exactly one outcome through their Caller: the replies, or a
// Failure. No erl_nif here: the NIF layer implements Caller with enif_send.
#pragma once

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "reactor.hpp"
#include "reply_receiver.hpp"
#include "socket.hpp"
#include "transport.hpp"

namespace analytics::redis {

enum class FailureKind {
    timeout,          // no reply within the caller's timeout
    disconnected,     // the server went away with the request in flight, or the
                      // connection was reset under it (a late reply, see below)
    closed,           // sent while reconnecting, or after stop
    protocol_error,   // a malformed reply; the connection is reset
    reply_too_large,  // a reply over max_reply_bytes; the connection is reset
};

// The outcome of one reply slot: a tree, a column, several, or an error
// (from the server, or a decoding problem naming key and element).
struct SlotError {
    std::string message;
};
using SlotResult = std::variant<ReplyTree, series::ColumnData, ColumnSet, SlotError>;

// Live engines and callers (requests not yet answered or dropped), for leak
// checks (Analytics.native_counters/0).
inline std::atomic<std::int64_t> live_engines{0};
inline std::atomic<std::int64_t> live_callers{0};

class Caller {
public:
    Caller() { live_callers.fetch_add(1, std::memory_order_relaxed); }
    virtual ~Caller() { live_callers.fetch_sub(1, std::memory_order_relaxed); }
    Caller(const Caller&) = delete;
    Caller& operator=(const Caller&) = delete;
    virtual void deliver(std::vector<SlotResult> results) = 0;
    virtual void fail(FailureKind kind) = 0;
    // True once nobody waits for the answer (the calling process died): the
    // engine then drops the request's pending work and its caller.
    virtual bool abandoned() const { return false; }
};

// One reply the request expects: a tree when `decoder` is empty.
struct Slot {
    std::optional<ColumnDecoder> decoder;
};

struct Request {
    std::unique_ptr<Caller> caller;
    std::string wire;  // the formatted commands, back to back
    std::vector<Slot> slots;
    std::chrono::steady_clock::time_point deadline;
};

struct EngineOptions {
    std::chrono::milliseconds connect_timeout{5000};
    // Bounds what the reader buffers and what one reply takes decoded (see
    // ReplyBudget): over it, the pending callers fail with reply_too_large
    // and the connection is reset.
    std::size_t max_reply_bytes = std::size_t{512} << 20;
    // How long the reply at the head of the line may keep the connection once
    // nobody waits for it (its caller timed out or died): then the connection
    // is reset, failing the requests behind it with `disconnected`, rather
    // than every later call timing out behind a reply that may never end.
    std::chrono::milliseconds late_reply_bound{2000};
    // The reactor pool's size, read when the node's first engine starts
    // (clamped to 1..cores; see ReactorPool).
    unsigned io_threads = 1;
    // Makes the transport over each connected socket; empty: PlainTransport.
    TransportFactory make_transport;
};

class Engine final : public Handler, public std::enable_shared_from_this<Engine> {
public:
    // Connects and runs the handshake before returning: the calling thread
    // (a dirty IO scheduler) waits for the reactor's first attempt. Throws
    // ConnectError.
    static std::shared_ptr<Engine> start(Endpoint endpoint, EngineOptions options);

    // Returns at once; the reactor connects in the background, retrying
    // with backoff. Requests submitted during the first attempt wait for it;
    // after a failed attempt they are refused with `closed` until connected.
    static std::shared_ptr<Engine> start_in_background(Endpoint endpoint, EngineOptions options);

    // Queues a request, taking it; nothing when accepted. A stopped or
    // reconnecting engine refuses it (`closed`) and leaves it with the
    // submitter, who answers its caller in its own thread. Never waits on
    // the socket: at most one non-blocking send.
    std::optional<FailureKind> submit(Request&& request);

    // Fails everything pending with `closed` and closes the socket, on the
    // reactor. Never blocks.
    void stop();

    // Asks the reactor to look at this engine's callers again (one was abandoned).
    void wake();

    // Why requests are `closed` while the engine runs and is not connected:
    // where it tries to connect and why its latest attempt failed (nothing
    // yet when no attempt has failed since the connection was lost). A
    // server's refusal of the handshake (WRONGPASS) is worth telling the
    // caller as the server's own error; a socket reason (econnrefused) as
    // the cause of `closed`. Nothing once stopped or while connected.
    struct NotConnected {
        std::string address;  // "host:port", never the password
        std::optional<ConnectError> last_attempt;
    };
    std::optional<NotConnected> not_connected();

    // Requests accepted and not yet answered, failed or dropped.
    std::size_t pending() const { return pending_.load(); }

    // Only start() and start_in_background() can make the pass key.
    class Key {
        friend class Engine;
        Key() = default;
    };
    Engine(Key, Endpoint endpoint, EngineOptions options, Reactor& reactor);

    ~Engine() override;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Reactor callbacks (reactor thread only).
    void on_io(std::uint32_t events) override;
    void on_turn() override;
    void on_reactor_stop() override;

private:
    using Clock = std::chrono::steady_clock;
    // Reconnecting waits this long first, doubling up to kMaxBackoff, plus
    // up to half as much again of jitter.
    static constexpr std::chrono::milliseconds kFirstBackoff{100};
    static constexpr std::chrono::milliseconds kMaxBackoff{5000};

    struct InFlight {
        Request request;
        std::size_t slot_count = 0;
        std::size_t next_slot = 0;
        std::vector<SlotResult> results;
        bool answered = false;  // timed out or abandoned: the reply is read, not kept
        Clock::time_point answered_at{};
    };

    // Where the connection is; reactor thread only.
    enum class State { idle, resolving, connecting, handshaking, authenticating, connected, stopped };

    void step(std::uint32_t events);
    bool connecting() const {
        return state_ == State::resolving || state_ == State::connecting || state_ == State::handshaking ||
               state_ == State::authenticating;
    }
    void shut_down();

    // engine.cpp: requests and replies.
    std::optional<FailureKind> serve(std::uint32_t events);
    bool flush_outbox();
    std::optional<FailureKind> read_replies();
    std::optional<FailureKind> parse_replies();
    void take_reply(InFlight& front);
    void take_inbox_locked();
    bool expire(Clock::time_point now);
    void rearm(Clock::time_point now);
    void arm(Clock::time_point when);
    Clock::time_point late_reply_deadline() const;
    void fail_in_flight(FailureKind kind);
    void settle(InFlight& f);
    void lose_connection(FailureKind kind);
    void watch_writes(bool writable);

    // engine_connect.cpp: connecting, the handshake, reconnecting.
    void begin_attempt();
    void take_resolved();
    void connect_next();
    void advance_connect(std::uint32_t events);
    void socket_connected();
    void drive_transport_handshake();
    void begin_auth();
    void drive_auth();
    std::optional<ConnectError> read_auth_replies();
    void became_connected();
    void attempt_failed(const ConnectError& why);
    void close_socket();
    void schedule_retry();

    const Endpoint endpoint_;
    const EngineOptions options_;
    Reactor& reactor_;

    // Guards everything up to pending_: what submitters and the reactor share.
    std::mutex mutex_;
    std::condition_variable first_attempt_over_;  // for start()
    std::vector<Request> inbox_;  // accepted, not yet taken by the reactor
    std::string outbox_;          // bytes of accepted requests not yet sent
    std::size_t outbox_sent_ = 0;
    std::unique_ptr<Transport> transport_;  // the connected socket
    bool stopping_ = false;
    bool connected_ = false;
    // Started in the background and the first attempt is not over: requests
    // wait rather than being refused, as a new connection's first calls
    // should not fail only because they came first.
    bool first_attempt_ = false;
    std::optional<ConnectError> last_attempt_;  // the latest failed connect since the connection was lost
    std::optional<Resolved> resolved_;          // from the resolver thread
    // The earliest time the reactor will look at the deadlines again: a
    // request due before it must wake the reactor.
    Clock::time_point armed_at_ = Clock::time_point::max();
    std::atomic<std::size_t> pending_{0};

    // Reactor thread only.
    State state_ = State::idle;
    int fd_ = -1;       // the socket being connected or the transport's
    Fd connecting_;     // before a transport owns it
    bool watching_writes_ = false;
    // Whether the last read waits for the socket to be writable (TLS), and
    // whether reading stopped with bytes perhaps left: the per-turn bound,
    // or decrypted bytes inside OpenSSL that epoll cannot see. Then the
    // reactor is asked for another turn rather than waiting on epoll.
    bool read_waits_for_write_ = false;
    bool more_to_read_ = false;
    std::vector<Address> addresses_;
    std::size_t address_index_ = 0;
    std::string last_socket_error_;
    Clock::time_point attempt_deadline_{};
    Clock::time_point retry_at_{};
    std::chrono::milliseconds backoff_ = kFirstBackoff;
    std::string auth_out_;  // AUTH and SELECT, then their replies
    std::size_t auth_sent_ = 0;
    std::size_t auth_replies_ = 0;
    Reader reader_;       // the handshake's replies (AUTH, SELECT, PING)
    ReplyTarget target_;  // and where they go; its address is in the reader's tasks
    ReplyReceiver receiver_;  // once connected: the transport's bytes, framed into replies
    std::deque<InFlight> in_flight_;
    // Since when the head of in_flight_ has been the one whose reply comes next.
    Clock::time_point head_since_{};
};

}  // namespace analytics::redis
