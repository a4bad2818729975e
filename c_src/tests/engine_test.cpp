// The IO engine under concurrency, against a real redis-server: many threads
// submitting, callers abandoned and timing out, stop racing submissions. Run
// under ThreadSanitizer by scripts/test.sh.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../redis/command.hpp"
#include "../redis/engine.hpp"
#include "../redis/tls_transport.hpp"
#include "redis_process.hpp"
#include "tls_files.hpp"

using namespace analytics::redis;
using analytics::test::free_port;
using analytics::test::RedisProcess;
using namespace std::chrono_literals;

namespace {

// What became of every request, counted across threads.
struct Tally {
    std::atomic<int> delivered{0};
    std::atomic<int> pongs{0};
    std::atomic<int> failed{0};
    std::atomic<int> timeouts{0};
    std::atomic<int> disconnected{0};
    std::atomic<int> reply_too_large{0};
    std::atomic<int> destroyed{0};
    std::atomic<int> answered_twice{0};

    int settled() const { return delivered + failed; }
};

class CountingCaller final : public Caller {
public:
    CountingCaller(std::shared_ptr<Tally> tally, std::shared_ptr<std::atomic<bool>> gone)
        : tally_(std::move(tally)), gone_(std::move(gone)) {}
    ~CountingCaller() override { ++tally_->destroyed; }

    void deliver(std::vector<SlotResult> results) override {
        answer();
        ++tally_->delivered;
        const auto* tree = std::get_if<ReplyTree>(&results.front());
        if (tree && tree->text(tree->root()) == "PONG") ++tally_->pongs;
    }
    void fail(FailureKind kind) override {
        answer();
        ++tally_->failed;
        if (kind == FailureKind::timeout) ++tally_->timeouts;
        if (kind == FailureKind::disconnected) ++tally_->disconnected;
        if (kind == FailureKind::reply_too_large) ++tally_->reply_too_large;
    }
    bool abandoned() const override { return gone_ && gone_->load(); }

private:
    void answer() {
        if (answers_++ > 0) ++tally_->answered_twice;
    }

    std::shared_ptr<Tally> tally_;
    std::shared_ptr<std::atomic<bool>> gone_;
    int answers_ = 0;  // touched only by the one thread that answers
};

Request make_request(const std::vector<std::string>& command, std::shared_ptr<Tally> tally,
                     std::chrono::milliseconds timeout, std::shared_ptr<std::atomic<bool>> gone = nullptr) {
    Request request;
    request.caller = std::make_unique<CountingCaller>(std::move(tally), std::move(gone));
    request.wire = format_command(command);
    request.slots.emplace_back();
    request.deadline = std::chrono::steady_clock::now() + timeout;
    return request;
}

bool eventually(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

}  // namespace

TEST_CASE("threads sharing one engine each get exactly one answer per request", "[engine]") {
    const RedisProcess redis;
    const auto engine = Engine::start(redis.endpoint(), EngineOptions{});
    const auto tally = std::make_shared<Tally>();
    constexpr int kThreads = 8, kPerThread = 500;

    // Catch2 assertions are not thread-safe: the threads only count.
    std::atomic<int> refused{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kPerThread; ++i) {
                if (engine->submit(make_request({"PING"}, tally, 10s))) ++refused;
            }
        });
    }
    threads.clear();
    REQUIRE(refused == 0);

    REQUIRE(eventually([&] { return tally->settled() == kThreads * kPerThread; }));
    CHECK(tally->pongs == kThreads * kPerThread);
    CHECK(tally->answered_twice == 0);
    REQUIRE(eventually([&] { return engine->pending() == 0; }));
    engine->stop();
}

TEST_CASE("threads sharing one engine over TLS each get exactly one answer, large replies too", "[engine][tls]") {
    const RedisProcess redis(analytics::test::tls_server_args(), RedisProcess::Listen::tls);
    TlsSettings settings;
    settings.cacertfile = analytics::test::tls_file("ca.crt");
    const auto context = std::make_shared<const TlsContext>(settings);
    EngineOptions options;
    options.make_transport = [context](Fd socket) -> std::unique_ptr<Transport> {
        return std::make_unique<TlsTransport>(context, std::move(socket), TlsPeer{"127.0.0.1", true});
    };
    const auto engine = Engine::start(redis.endpoint(), options);
    const auto tally = std::make_shared<Tally>();
    // A 2 MiB value: its replies span many TLS records and more than one
    // turn's worth of reads.
    REQUIRE_FALSE(engine->submit(make_request({"SET", "big", std::string(2 << 20, 'v')}, tally, 30s)));
    constexpr int kThreads = 4, kPerThread = 300;

    std::atomic<int> refused{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kPerThread; ++i) {
                if (engine->submit(make_request(i % 50 == 0 ? std::vector<std::string>{"GET", "big"}
                                                            : std::vector<std::string>{"PING"},
                                                tally, 30s))) {
                    ++refused;
                }
            }
        });
    }
    threads.clear();
    REQUIRE(refused == 0);

    REQUIRE(eventually([&] { return tally->settled() == kThreads * kPerThread + 1; }));
    CHECK(tally->failed == 0);
    CHECK(tally->pongs == kThreads * (kPerThread - kPerThread / 50));
    CHECK(tally->answered_twice == 0);
    engine->stop();
}

TEST_CASE("abandoned callers, timeouts and stop racing submissions leave nothing behind", "[engine]") {
    const RedisProcess redis;
    const auto tally = std::make_shared<Tally>();
    std::atomic<int> submitted{0}, refused{0};
    {
        const auto engine = Engine::start(redis.endpoint(), EngineOptions{});
        const auto gone = std::make_shared<std::atomic<bool>>(false);

        std::vector<std::jthread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 400; ++i) {
                    // Some wait on the server longer than they may; some are
                    // abandoned by their (pretend) processes meanwhile.
                    auto request = i % 10 == 0 ? make_request({"BLPOP", "nothing", "0.05"}, tally, 5ms)
                                   : t == 0    ? make_request({"PING"}, tally, 10s, gone)
                                               : make_request({"PING"}, tally, 10s);
                    ++submitted;
                    if (engine->submit(std::move(request))) ++refused;  // destroyed here, unanswered
                }
            });
        }
        threads.emplace_back([&] {
            std::this_thread::sleep_for(2ms);
            gone->store(true);
            engine->wake();
            eventually([&] { return tally->timeouts > 0; });
            engine->stop();
        });
        threads.clear();

        REQUIRE(eventually([&] { return engine->pending() == 0; }));
        // After stop, every submission is refused.
        auto late = make_request({"PING"}, tally, 10s);
        ++submitted;
        REQUIRE(engine->submit(std::move(late)) == FailureKind::closed);
        ++refused;
    }
    // The IO thread drops its last reference when it ends; every caller goes.
    REQUIRE(eventually([&] { return tally->destroyed == submitted; }));
    CHECK(tally->answered_twice == 0);
    CHECK(tally->settled() <= submitted - refused);
    CHECK(tally->timeouts > 0);
}

TEST_CASE("a reply over max_reply_bytes fails its caller, and the engine reconnects", "[engine]") {
    const RedisProcess redis;
    EngineOptions options;
    options.max_reply_bytes = 64 * 1024;
    const auto engine = Engine::start(redis.endpoint(), options);
    const auto tally = std::make_shared<Tally>();
    std::vector<std::string> push{"RPUSH", "big"};
    for (int i = 0; i < 20'000; ++i) push.push_back(std::to_string(i));
    REQUIRE_FALSE(engine->submit(make_request(push, tally, 10s)));
    REQUIRE(eventually([&] { return tally->delivered == 1; }));

    // 20,000 nodes of a tree are more than 64 KiB, though the wire is not.
    REQUIRE_FALSE(engine->submit(make_request({"LRANGE", "big", "0", "-1"}, tally, 10s)));
    REQUIRE(eventually([&] { return tally->failed == 1; }));
    CHECK(tally->reply_too_large == 1);

    REQUIRE(eventually([&] {
        engine->submit(make_request({"PING"}, tally, 10s));
        std::this_thread::sleep_for(20ms);
        return tally->pongs > 0;
    }));
    CHECK(tally->answered_twice == 0);
    engine->stop();
}

TEST_CASE("a reply that outlives its caller by the bound resets the connection", "[engine]") {
    const RedisProcess redis;
    EngineOptions options;
    options.late_reply_bound = 200ms;
    const auto engine = Engine::start(redis.endpoint(), options);
    const auto tally = std::make_shared<Tally>();

    // The server holds the BLPOP's reply for 5 s; its caller gives up after
    // 50 ms, and the PING behind it would wait the whole 5 s.
    const auto started = std::chrono::steady_clock::now();
    REQUIRE_FALSE(engine->submit(make_request({"BLPOP", "nothing", "5"}, tally, 50ms)));
    REQUIRE_FALSE(engine->submit(make_request({"PING"}, tally, 30s)));
    REQUIRE(eventually([&] { return tally->failed == 2; }));
    CHECK(tally->timeouts == 1);
    CHECK(tally->disconnected == 1);
    CHECK(std::chrono::steady_clock::now() - started < 4s);

    REQUIRE(eventually([&] {
        engine->submit(make_request({"PING"}, tally, 10s));
        std::this_thread::sleep_for(20ms);
        return tally->pongs > 0;
    }));
    CHECK(tally->answered_twice == 0);
    engine->stop();
}

TEST_CASE("a background engine's first requests wait for its first attempt; a refused handshake says why",
          "[engine]") {
    const RedisProcess redis({"--requirepass", "right"});
    const auto tally = std::make_shared<Tally>();
    Endpoint endpoint = redis.endpoint();
    endpoint.password = "right";
    {
        const auto engine = Engine::start_in_background(endpoint, EngineOptions{});
        // Submitted while the IO thread connects: accepted, not refused.
        for (int i = 0; i < 20; ++i) REQUIRE_FALSE(engine->submit(make_request({"PING"}, tally, 10s)));
        REQUIRE(eventually([&] { return tally->pongs == 20; }));
        CHECK_FALSE(engine->not_connected());
        engine->stop();
    }

    endpoint.password = "wrong";
    const auto engine = Engine::start_in_background(endpoint, EngineOptions{});
    // Waiting for the first attempt or refused after it: closed either way.
    const bool refused = engine->submit(make_request({"PING"}, tally, 10s)).has_value();
    REQUIRE(eventually([&] { return refused || tally->failed == 1; }));
    const auto why = engine->not_connected();
    REQUIRE(why);
    REQUIRE(why->last_attempt);
    CHECK(why->last_attempt->server);
    CHECK(std::string(why->last_attempt->what()).starts_with("WRONGPASS"));
    CHECK(engine->submit(make_request({"PING"}, tally, 10s)) == FailureKind::closed);
    engine->stop();
    // Stopped, it no longer blames the server.
    CHECK_FALSE(engine->not_connected());
    CHECK(tally->answered_twice == 0);
}

TEST_CASE("a background engine that cannot connect keeps its address and the latest attempt's reason",
          "[engine]") {
    Endpoint endpoint;
    endpoint.port = free_port();  // nothing listens there
    endpoint.password = "never shown";
    const auto tally = std::make_shared<Tally>();
    const auto engine = Engine::start_in_background(endpoint, EngineOptions{});
    const bool refused = engine->submit(make_request({"PING"}, tally, 10s)).has_value();
    REQUIRE(eventually([&] { return refused || tally->failed == 1; }));
    const auto why = engine->not_connected();
    REQUIRE(why);
    CHECK(why->address == "127.0.0.1:" + std::to_string(endpoint.port));
    REQUIRE(why->last_attempt);
    CHECK_FALSE(why->last_attempt->server);
    CHECK(std::string(why->last_attempt->what()) == "econnrefused");
    engine->stop();
    CHECK_FALSE(engine->not_connected());
}

namespace {

std::size_t os_threads() {
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
        (void)entry;
        ++count;
    }
    return count;
}

}  // namespace

TEST_CASE("many connections share one reactor thread, and each gets exactly one answer per request",
          "[engine][reactor]") {
    const RedisProcess redis;
    constexpr int kEngines = 100;
    constexpr int kThreads = 4;
    constexpr int kPerEngine = 20;
    const auto tally = std::make_shared<Tally>();
    // The reactor's thread (and a sanitizer's own) exist before the count.
    ReactorPool::instance().pick(1);
    const auto threads_before = os_threads();
    std::vector<std::shared_ptr<Engine>> engines;
    for (int i = 0; i < kEngines; ++i) {
        // Half connect in the background: their first requests wait for it.
        engines.push_back(i % 2 ? Engine::start(redis.endpoint(), EngineOptions{})
                                : Engine::start_in_background(redis.endpoint(), EngineOptions{}));
    }
    // One reactor (io_threads defaults to 1), not a thread per connection.
    CHECK(os_threads() == threads_before);
    CHECK(ReactorPool::instance().threads() == 1);

    std::vector<std::thread> submitters;
    for (int t = 0; t < kThreads; ++t) {
        submitters.emplace_back([&, t] {
            for (int n = 0; n < kPerEngine; ++n) {
                for (int e = t; e < kEngines; e += kThreads) {
                    auto refused = engines[e]->submit(make_request({"PING"}, tally, 30s));
                    if (refused) ++tally->failed;
                }
            }
        });
    }
    for (auto& thread : submitters) thread.join();
    REQUIRE(eventually([&] { return tally->settled() == kEngines * kPerEngine; }));
    CHECK(tally->pongs == kEngines * kPerEngine);
    CHECK(tally->answered_twice == 0);

    const auto engines_before = live_engines.load();
    for (auto& engine : engines) engine->stop();
    engines.clear();
    REQUIRE(eventually([&] { return live_engines.load() == engines_before - kEngines; }));
    CHECK(os_threads() == threads_before);
    CHECK(tally->destroyed == kEngines * kPerEngine);
}

TEST_CASE("a connection whose socket buffer is full takes requests without blocking the submitter",
          "[engine][reactor]") {
    const RedisProcess redis;
    const auto tally = std::make_shared<Tally>();
    const auto engine = Engine::start(redis.endpoint(), EngineOptions{});
    redis.pause();
    // More than the socket buffers hold while the server reads nothing.
    const std::string big(4 << 20, 'x');
    std::vector<Request> requests;
    // Deadlines far enough for the copies to be made first, even under TSan.
    for (int i = 0; i < 4; ++i) requests.push_back(make_request({"SET", "big", big}, tally, 10s));
    // A submitter that waited for the socket would wait for ever here, as
    // the server reads nothing until resumed below; the bound is only there
    // to fail rather than hang (copying 16 MB is all it does, even under TSan).
    const auto started = std::chrono::steady_clock::now();
    for (auto& request : requests) REQUIRE_FALSE(engine->submit(std::move(request)));
    CHECK(std::chrono::steady_clock::now() - started < 60s);
    REQUIRE(eventually([&] { return tally->timeouts == 4; }));
    redis.resume();
    REQUIRE(eventually([&] {
        engine->submit(make_request({"PING"}, tally, 10s));
        std::this_thread::sleep_for(20ms);
        return tally->pongs > 0;
    }));
    CHECK(tally->answered_twice == 0);
    engine->stop();
}

namespace {

// Keeps what one request was answered with, for the test thread to read.
class KeepingCaller final : public Caller {
public:
    explicit KeepingCaller(std::shared_ptr<std::promise<std::vector<SlotResult>>> promise)
        : promise_(std::move(promise)) {}
    void deliver(std::vector<SlotResult> results) override { promise_->set_value(std::move(results)); }
    void fail(FailureKind kind) override {
        promise_->set_exception(std::make_exception_ptr(std::runtime_error("failed: " + std::to_string(int(kind)))));
    }

private:
    std::shared_ptr<std::promise<std::vector<SlotResult>>> promise_;
};

// The commands in one request, each reply into its slot (no decoder: a tree).
// Throws runtime_error when the engine refuses or fails the request.
std::vector<SlotResult> ask(Engine& engine, const std::vector<std::vector<std::string>>& commands,
                            std::vector<Slot> slots) {
    auto promise = std::make_shared<std::promise<std::vector<SlotResult>>>();
    auto answer = promise->get_future();
    Request request;
    request.caller = std::make_unique<KeepingCaller>(promise);
    for (const auto& command : commands) request.wire += format_command(command);
    request.slots = std::move(slots);
    request.deadline = std::chrono::steady_clock::now() + 20s;
    if (engine.submit(std::move(request))) throw std::runtime_error("refused");
    REQUIRE(answer.wait_for(30s) == std::future_status::ready);
    return answer.get();
}

Slot packed(const std::string& key) { return Slot{ColumnDecoder(analytics::series::Dtype::f64, ColumnLayout::packed, key)}; }

std::vector<double> floats_of(const SlotResult& result) {
    const auto& floats =
        std::get<analytics::series::AlignedVector<double>>(std::get<analytics::series::ColumnData>(result));
    return std::vector<double>(floats.begin(), floats.end());
}

}  // namespace

TEST_CASE("packed values reach their columns whole, among other replies in one pipeline", "[engine]") {
    const RedisProcess redis;
    EngineOptions options;
    options.max_reply_bytes = 8 << 20;
    const auto engine = Engine::start(redis.endpoint(), options);
    std::vector<double> big(512 * 1024);  // 4 MiB: many reads, straight into the column
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i) / 3;
    const std::string big_bytes(reinterpret_cast<const char*>(big.data()), big.size() * sizeof(double));
    const double one = 2.5;
    ask(*engine, {{"SET", "big", big_bytes}, {"SET", "one", std::string(reinterpret_cast<const char*>(&one), 8)},
                  {"SET", "odd", "abc"}, {"RPUSH", "list", "1", "2.5"}},
        std::vector<Slot>(4));

    std::vector<Slot> slots;
    slots.push_back(packed("one"));
    slots.emplace_back();
    slots.push_back(packed("big"));
    slots.push_back(Slot{ColumnDecoder(analytics::series::Dtype::f64, ColumnLayout::elements, "list")});
    slots.push_back(packed("odd"));
    slots.push_back(packed("missing"));
    slots.push_back(packed("list"));
    slots.push_back(packed("big"));
    const auto results = ask(*engine,
                             {{"GET", "one"}, {"PING"}, {"GET", "big"}, {"LRANGE", "list", "0", "-1"}, {"GET", "odd"},
                              {"GET", "missing"}, {"GET", "list"}, {"GET", "big"}},
                             std::move(slots));
    CHECK(floats_of(results[0]) == std::vector<double>{2.5});
    CHECK(std::get<ReplyTree>(results[1]).text(std::get<ReplyTree>(results[1]).root()) == "PONG");
    CHECK(floats_of(results[2]) == big);
    CHECK(floats_of(results[3]) == std::vector<double>{1, 2.5});
    CHECK(std::get<SlotError>(results[4]).message == "key odd holds 3 bytes, not a whole number of 8-byte values");
    CHECK(floats_of(results[5]).empty());
    CHECK(std::get<SlotError>(results[6]).message.starts_with("WRONGTYPE"));
    CHECK(floats_of(results[7]) == big);

    // Over max_reply_bytes: refused at its header, and the engine reconnects.
    ask(*engine, {{"SETRANGE", "huge", std::to_string(8 << 20), "12345678"}}, std::vector<Slot>(1));
    std::vector<Slot> huge;
    huge.push_back(packed("huge"));
    CHECK_THROWS_WITH(ask(*engine, {{"GET", "huge"}}, std::move(huge)),
                      "failed: " + std::to_string(int(FailureKind::reply_too_large)));
    REQUIRE(eventually([&] {
        std::vector<Slot> again;
        again.push_back(packed("one"));
        try {
            return floats_of(ask(*engine, {{"GET", "one"}}, std::move(again))[0]) == std::vector<double>{2.5};
        } catch (const std::runtime_error&) {
            std::this_thread::sleep_for(20ms);
            return false;  // refused or closed while reconnecting
        }
    }));
    engine->stop();
}
