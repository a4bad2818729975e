// The IO engine: one thread per connection running an epoll loop over a
// non-blocking socket, pipelining the requests of every caller.
//
// Callers submit a Request (already formatted bytes plus how to decode each
// reply) and get exactly one outcome through their Caller: the replies, or a
// Failure. No erl_nif here: the NIF layer implements Caller with enif_send.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "reply.hpp"
#include "connect.hpp"

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
    // What each (re)connect speaks over its socket: plain TCP when empty, or
    // TLS (TlsTransport, made by the NIF glue from the ssl options).
    TransportFactory make_transport;
};

class Engine : public std::enable_shared_from_this<Engine> {
public:
    // Connects and runs the handshake in the calling thread (a dirty IO
    // scheduler), then starts the IO thread. Throws ConnectError.
    static std::shared_ptr<Engine> start(Endpoint endpoint, EngineOptions options);

    // Starts the IO thread at once and connects in the background, retrying
    // with backoff. Requests submitted during the first attempt wait for it;
    // after a failed attempt they are refused with `closed` until connected.
    static std::shared_ptr<Engine> start_in_background(Endpoint endpoint, EngineOptions options);

    // Queues a request, taking it; nothing when accepted. A stopped or
    // reconnecting engine refuses it (`closed`) and leaves it with the
    // submitter, who answers its caller in its own thread.
    std::optional<FailureKind> submit(Request&& request);

    // Fails everything pending with `closed` and lets the IO thread end. Never
    // blocks: the thread finishes on its own and then drops its reference.
    void stop();

    // Asks the IO thread to look at its callers again (one was abandoned).
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
    Engine(Key, Endpoint endpoint, EngineOptions options, std::unique_ptr<Transport> transport);

    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

private:
    struct InFlight {
        Request request;
        std::size_t slot_count = 0;
        std::size_t next_slot = 0;
        std::vector<SlotResult> results;
        bool answered = false;  // timed out or abandoned: the reply is read, not kept
        std::chrono::steady_clock::time_point answered_at{};
    };

    void run();
    void serve_connection();
    bool reconnect_with_backoff(bool wait_first);
    void launch();
    void sleep_unless_woken(std::chrono::milliseconds duration);
    void take_inbox();
    bool start_waiting();
    bool flush_writes();
    bool read_replies();
    void watch_transport();
    bool parse_replies();
    void take_reply(InFlight& front);
    bool expire(std::chrono::steady_clock::time_point now);
    std::chrono::steady_clock::time_point late_reply_deadline() const;
    void fail_in_flight(FailureKind kind);
    void drop_unsent();
    int next_timeout_ms() const;
    void settle(InFlight& f);

    const Endpoint endpoint_;
    const EngineOptions options_;

    std::mutex mutex_;  // guards inbox_, stopping_, connected_, waiting_, first_attempt_, last_attempt_
    std::vector<Request> inbox_;
    bool stopping_ = false;
    bool connected_ = false;
    // Started in the background and the first attempt is not over: requests
    // wait in the inbox rather than being refused, as a new connection's
    // first calls should not fail only because they came first.
    bool first_attempt_ = false;
    std::optional<ConnectError> last_attempt_;  // the latest failed connect since the connection was lost
    // The IO thread is (about to be) blocked in epoll_wait with an empty
    // inbox: only then does a submission need to write the eventfd.
    bool waiting_ = false;
    std::atomic<std::size_t> pending_{0};

    // Owned by the IO thread alone.
    std::unique_ptr<Transport> transport_;
    // Whether the last read or write waits for the socket to be writable
    // (TLS may need it to read; a write needing it readable is retried on
    // every turn anyway, as the socket is always watched for input), and
    // whether reading stopped with bytes perhaps left (the per-turn bound, or
    // decrypted bytes inside OpenSSL that epoll cannot see).
    bool read_waits_for_write_ = false;
    bool write_waits_for_write_ = false;
    bool more_to_read_ = false;
    bool watching_writes_ = false;
    Fd epoll_;
    Fd wake_fd_;
    Reader reader_;
    ReplyTarget target_;  // the reply being read; its address is in the reader's tasks
    std::string write_buffer_;
    std::size_t write_offset_ = 0;
    std::deque<InFlight> in_flight_;
    // Since when the head of in_flight_ has been the one whose reply comes next.
    std::chrono::steady_clock::time_point head_since_{};
};

}  // namespace analytics::redis
