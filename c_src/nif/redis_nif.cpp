#include "redis_nif.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../redis/command.hpp"
#include "../redis/engine.hpp"
#include "../redis/tls_transport.hpp"
#include "atoms.hpp"
#include "boundary.hpp"
#include "redis_terms.hpp"
#include "resource_types.hpp"
#include "schedule.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

// Stopping is non-blocking, so the destructor may run on any scheduler.
struct EngineResource {
    std::shared_ptr<redis::Engine> engine;
    ~EngineResource() {
        if (engine) engine->stop();
    }
};

ErlNifResourceType* engine_type = nullptr;

void destroy_engine(ErlNifEnv*, void* object) { static_cast<EngineResource*>(object)->~EngineResource(); }

// The connection process owns its engine: however it dies, even by :kill,
// the engine stops, its socket closes and its pending callers get :closed.
void engine_owner_down(ErlNifEnv*, void* object, ErlNifPid*, ErlNifMonitor*) {
    if (auto& engine = static_cast<EngineResource*>(object)->engine) engine->stop();
}

// One per request: what the calling process is monitored through. The
// NifCaller holds a reference, so demonitoring never touches a freed object;
// its down callback marks the request abandoned and wakes the engine.
struct CallerWatch {
    std::atomic<bool> down{false};
    std::weak_ptr<redis::Engine> engine;
};

ErlNifResourceType* watch_type = nullptr;

void destroy_watch(ErlNifEnv*, void* object) { static_cast<CallerWatch*>(object)->~CallerWatch(); }

void watched_process_down(ErlNifEnv*, void* object, ErlNifPid*, ErlNifMonitor*) {
    auto* watch = static_cast<CallerWatch*>(object);
    watch->down = true;
    if (auto engine = watch->engine.lock()) engine->wake();
}

struct EnvFree {
    void operator()(ErlNifEnv* env) const { enif_free_env(env); }
};

enum class Shape { single, many };

// Socket reasons are atom-like ("econnrefused"); anything else stays a string.
ERL_NIF_TERM connect_reason(ErlNifEnv* env, const std::string& reason) {
    const bool atom_like = reason.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos;
    return atom_like ? enif_make_atom(env, reason.c_str()) : make_binary(env, reason);
}

// `closed` while the engine is not connected says why: the server's own
// error when it refused the handshake (WRONGPASS ...), as a synchronous
// connect would return it; otherwise the address and the latest attempt's
// socket reason as the cause.
ERL_NIF_TERM failure_term(ErlNifEnv* env, redis::FailureKind kind, redis::Engine* engine) {
    if (kind == redis::FailureKind::closed && engine) {
        if (auto why = engine->not_connected()) {
            const auto& attempt = why->last_attempt;
            if (attempt && attempt->server) return make_redis_error(env, attempt->what());
            return make_connection_error(env, atoms::closed, make_binary(env, why->address),
                                         attempt ? connect_reason(env, attempt->what()) : atoms::nil);
        }
    }
    return make_connection_error(env, failure_reason(kind));
}

// Answers one request from the IO thread: a process-independent env per
// request holds the ref and the message, and goes with the send.
class NifCaller final : public redis::Caller {
public:
    NifCaller(ErlNifEnv* caller_env, ERL_NIF_TERM ref, Shape shape, const std::shared_ptr<redis::Engine>& engine)
        : env_(enif_alloc_env()), shape_(shape) {
        if (!env_) throw std::bad_alloc();
        enif_self(caller_env, &pid_);
        ref_ = enif_make_copy(env_.get(), ref);
        void* memory = enif_alloc_resource(watch_type, sizeof(CallerWatch));
        if (!memory) throw std::bad_alloc();
        watch_ = new (memory) CallerWatch{};
        watch_->engine = engine;
        monitored_ = enif_monitor_process(caller_env, watch_, &pid_, &monitor_) == 0;
    }

    // Runs on the IO thread, or on the submitting scheduler when the engine
    // refused the request (then `refused` was called first with its env).
    ~NifCaller() override {
        if (monitored_) enif_demonitor_process(nullptr, watch_, &monitor_);
        enif_release_resource(watch_);
    }

    // The engine refused the request: undo the monitor from the caller's own
    // scheduler thread, where erl_nif wants its env.
    void refused(ErlNifEnv* caller_env) {
        if (monitored_) enif_demonitor_process(caller_env, watch_, &monitor_);
        monitored_ = false;
    }

    bool abandoned() const override { return watch_->down.load(); }

    void deliver(std::vector<redis::SlotResult> results) override {
        ErlNifEnv* env = env_.get();
        ERL_NIF_TERM outcome;
        if (shape_ == Shape::single) {
            const bool failed = is_error_slot(results.front());
            outcome = enif_make_tuple2(env, failed ? atoms::error : atoms::ok, slot_to_term(env, results.front()));
        } else {
            std::vector<ERL_NIF_TERM> items;
            items.reserve(results.size());
            // Each reply is freed as soon as it is a term: the peak holds one
            // reply twice, not the whole pipeline.
            for (auto& slot : results) {
                items.push_back(slot_to_term(env, slot));
                slot = redis::SlotResult();
            }
            outcome = enif_make_tuple2(env, atoms::ok,
                                       enif_make_list_from_array(env, items.data(), static_cast<unsigned>(items.size())));
        }
        send(outcome);
    }

    void fail(redis::FailureKind kind) override {
        ErlNifEnv* env = env_.get();
        send(enif_make_tuple2(env, atoms::error, failure_term(env, kind, watch_->engine.lock().get())));
    }

private:
    void send(ERL_NIF_TERM outcome) {
        ErlNifEnv* env = env_.get();
        // From the engine thread: no caller env (NULL), as erl_nif requires.
        enif_send(nullptr, &pid_, env, enif_make_tuple3(env, atoms::analytics_redis, ref_, outcome));
        enif_clear_env(env);
    }

    std::unique_ptr<ErlNifEnv, EnvFree> env_;
    ErlNifPid pid_;
    ERL_NIF_TERM ref_;
    Shape shape_;
    CallerWatch* watch_ = nullptr;
    ErlNifMonitor monitor_{};
    bool monitored_ = false;
};

std::string decode_string(ErlNifEnv* env, ERL_NIF_TERM term, const char* what) {
    ErlNifBinary binary;
    if (!enif_inspect_iolist_as_binary(env, term, &binary)) {
        throw std::invalid_argument(std::string(what) + " must be a string, got: " + describe(env, term));
    }
    return std::string(reinterpret_cast<const char*>(binary.data), binary.size);
}

long decode_int(ErlNifEnv* env, ERL_NIF_TERM term, const char* what, long low, long high) {
    long value;
    if (!enif_get_long(env, term, &value) || value < low || value > high) {
        throw std::invalid_argument(std::string(what) + " must be an integer from " + std::to_string(low) + " to " +
                                    std::to_string(high) + ", got: " + describe(env, term));
    }
    return value;
}

bool decode_bool(ErlNifEnv* env, ERL_NIF_TERM term, const char* what) {
    if (enif_is_identical(term, atoms::true_)) return true;
    if (enif_is_identical(term, atoms::false_)) return false;
    throw std::invalid_argument(std::string(what) + " must be true or false, got: " + describe(env, term));
}

// `false`, or {cacertfile, certfile, keyfile, verify_peer, peer_name, send_sni}
// as Analytics.Redis.Options checked them (a file is "" when not given): the
// factory of every (re)connect's TLS transport, sharing one SSL_CTX.
redis::TransportFactory decode_tls(ErlNifEnv* env, ERL_NIF_TERM term) {
    if (enif_is_identical(term, atoms::false_)) return {};
    int arity;
    const ERL_NIF_TERM* items;
    if (!enif_get_tuple(env, term, &arity, &items) || arity != 6) {
        throw std::invalid_argument("bad ssl settings: " + describe(env, term));
    }
    redis::TlsSettings settings;
    settings.cacertfile = decode_string(env, items[0], "cacertfile");
    settings.certfile = decode_string(env, items[1], "certfile");
    settings.keyfile = decode_string(env, items[2], "keyfile");
    settings.verify_peer = decode_bool(env, items[3], "verify_peer");
    const redis::TlsPeer peer{decode_string(env, items[4], "server name"), decode_bool(env, items[5], "send_sni")};
    if (peer.name.empty() || peer.name.find('\0') != std::string::npos) {
        throw std::invalid_argument("the server name must be a non-empty string without NUL bytes");
    }
    auto context = std::make_shared<const redis::TlsContext>(settings);
    return [context, peer](redis::Fd socket) -> std::unique_ptr<redis::Transport> {
        return std::make_unique<redis::TlsTransport>(context, std::move(socket), peer);
    };
}

ERL_NIF_TERM connect_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    redis::Endpoint endpoint;
    endpoint.host = decode_string(env, argv[0], "host");
    endpoint.port = static_cast<std::uint16_t>(decode_int(env, argv[1], "port", 1, 65535));
    endpoint.username = decode_string(env, argv[2], "username");
    endpoint.password = decode_string(env, argv[3], "password");
    endpoint.database = static_cast<int>(decode_int(env, argv[4], "database", 0, 1 << 20));
    redis::EngineOptions options;
    options.connect_timeout = std::chrono::milliseconds(decode_int(env, argv[5], "timeout", 1, 1L << 31));
    options.max_reply_bytes = static_cast<std::size_t>(decode_int(env, argv[6], "max_reply_bytes", 1, 1L << 40));
    endpoint.unix_path = decode_string(env, argv[9], "socket");
    options.io_threads = static_cast<unsigned>(decode_int(env, argv[10], "io_threads", 1, 1024));

    options.make_transport = decode_tls(env, argv[8]);

    const bool sync_connect = enif_is_identical(argv[7], atoms::true_);
    // start() waits here, on a dirty IO scheduler, for the reactor's first attempt.
    std::shared_ptr<redis::Engine> engine;
    try {
        engine = sync_connect ? redis::Engine::start(std::move(endpoint), options)
                              : redis::Engine::start_in_background(std::move(endpoint), options);
    } catch (const redis::ConnectError& e) {
        const ERL_NIF_TERM error =
            e.server ? make_redis_error(env, e.what()) : make_connection_error(env, connect_reason(env, e.what()));
        return enif_make_tuple2(env, atoms::error, error);
    }
    void* memory = enif_alloc_resource(engine_type, sizeof(EngineResource));
    if (!memory) {
        engine->stop();
        throw std::bad_alloc();
    }
    new (memory) EngineResource{std::move(engine)};
    const ERL_NIF_TERM term = enif_make_resource(env, memory);
    enif_release_resource(memory);
    return enif_make_tuple2(env, atoms::ok, term);
}

EngineResource& get_engine_resource(ErlNifEnv* env, ERL_NIF_TERM term) {
    EngineResource* resource;
    if (!enif_get_resource(env, term, engine_type, reinterpret_cast<void**>(&resource)) || !resource->engine) {
        throw std::invalid_argument("expected an Analytics.Redis engine, got: " + describe(env, term));
    }
    return *resource;
}

const std::shared_ptr<redis::Engine>& get_engine(ErlNifEnv* env, ERL_NIF_TERM term) {
    return get_engine_resource(env, term).engine;
}

// `args` is scratch space the caller reuses for every command of a request.
void append_one(ErlNifEnv* env, ERL_NIF_TERM command, std::vector<std::string_view>& args, std::string& wire) {
    args.clear();
    ERL_NIF_TERM head, tail = command;
    while (enif_get_list_cell(env, tail, &head, &tail)) {
        ErlNifBinary binary;
        if (!enif_inspect_iolist_as_binary(env, head, &binary)) {
            throw std::invalid_argument("command arguments must be strings, got: " + describe(env, head));
        }
        args.emplace_back(reinterpret_cast<const char*>(binary.data), binary.size);
    }
    if (args.empty() || !enif_is_empty_list(env, tail)) {
        throw std::invalid_argument("a command must be a non-empty list of strings, got: " + describe(env, command));
    }
    if (auto why = redis::refusal(args)) throw std::invalid_argument(*why);
    redis::append_command(wire, args);
}

// A slot's element names: nil, {start, stop} of a range, or MGET's keys.
redis::ElementNames decode_names(ErlNifEnv* env, ERL_NIF_TERM term) {
    redis::ElementNames names;
    if (enif_is_identical(term, atoms::nil)) return names;
    int arity;
    const ERL_NIF_TERM* bounds;
    ErlNifSInt64 start, stop;
    if (enif_get_tuple(env, term, &arity, &bounds)) {
        if (arity != 2 || !enif_get_int64(env, bounds[0], &start) || !enif_get_int64(env, bounds[1], &stop)) {
            throw std::invalid_argument("range bounds must fit in 64 bits, got: " + describe(env, term));
        }
        names.range = {start, stop};
        return names;
    }
    ERL_NIF_TERM key, keys = term;
    while (enif_get_list_cell(env, keys, &key, &keys)) names.keys.push_back(decode_string(env, key, "key"));
    if (!enif_is_empty_list(env, keys)) throw std::invalid_argument("bad reply names: " + describe(env, term));
    return names;
}

// A pair or stream layout's {first, second} dtypes; a single dtype otherwise.
std::pair<series::Dtype, series::Dtype> decode_dtypes(ErlNifEnv* env, ERL_NIF_TERM term, bool two, ERL_NIF_TERM spec) {
    const ERL_NIF_TERM* dtypes;
    int columns;
    const bool tuple = enif_get_tuple(env, term, &columns, &dtypes);
    if (tuple != two || (two && columns != 2)) {
        throw std::invalid_argument("bad reply dtypes for its layout: " + describe(env, spec));
    }
    if (!two) return {decode_dtype(env, term), series::Dtype::f64};
    return {decode_dtype(env, dtypes[0]), decode_dtype(env, dtypes[1])};
}

std::vector<std::string> decode_fields(ErlNifEnv* env, ERL_NIF_TERM term) {
    std::vector<std::string> fields;
    ERL_NIF_TERM field, rest = term;
    while (enif_get_list_cell(env, rest, &field, &rest)) fields.push_back(decode_string(env, field, "field"));
    if (!enif_is_empty_list(env, rest)) throw std::invalid_argument("bad stream fields: " + describe(env, term));
    return fields;
}

// {layout, dtype(s), key, names} or, for a stream, {layout, dtypes, key, nil, fields}.
redis::Slot decode_slot(ErlNifEnv* env, ERL_NIF_TERM spec) {
    if (enif_is_identical(spec, atoms::tree)) return redis::Slot{};
    int arity;
    const ERL_NIF_TERM* items;
    if (!enif_get_tuple(env, spec, &arity, &items) || arity < 4) {
        throw std::invalid_argument("bad reply slot: " + describe(env, spec));
    }
    redis::ColumnLayout layout;
    if (enif_is_identical(items[0], atoms::packed)) {
        layout = redis::ColumnLayout::packed;
    } else if (enif_is_identical(items[0], atoms::elements)) {
        layout = redis::ColumnLayout::elements;
    } else if (enif_is_identical(items[0], atoms::odd_elements)) {
        layout = redis::ColumnLayout::odd_elements;
    } else if (enif_is_identical(items[0], atoms::member_score_pairs)) {
        layout = redis::ColumnLayout::member_score_pairs;
    } else if (enif_is_identical(items[0], atoms::field_value_pairs)) {
        layout = redis::ColumnLayout::field_value_pairs;
    } else if (enif_is_identical(items[0], atoms::stream_fields)) {
        layout = redis::ColumnLayout::stream_fields;
    } else {
        throw std::invalid_argument("bad reply layout: " + describe(env, items[0]));
    }
    const bool stream = layout == redis::ColumnLayout::stream_fields;
    if (arity != (stream ? 5 : 4)) throw std::invalid_argument("bad reply slot: " + describe(env, spec));
    const bool two = stream || layout == redis::ColumnLayout::member_score_pairs ||
                     layout == redis::ColumnLayout::field_value_pairs;
    const auto [first, second] = decode_dtypes(env, items[1], two, spec);
    return redis::Slot{redis::ColumnDecoder(first, layout, decode_string(env, items[2], "key"),
                                            decode_names(env, items[3]), second,
                                            stream ? decode_fields(env, items[4]) : std::vector<std::string>{})};
}

double request_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    // Formatting copies every argument once: cost by bytes, walking at most a
    // bounded number of commands here.
    constexpr std::size_t kCommandsOnNormal = 1024;
    double bytes = 0;
    std::size_t commands = 0;
    ERL_NIF_TERM command, rest = argv[2];
    while (enif_get_list_cell(env, rest, &command, &rest)) {
        if (++commands > kCommandsOnNormal) return kNormalSchedulerBudgetNs + 1;
        ERL_NIF_TERM arg, args = command;
        while (enif_get_list_cell(env, args, &arg, &args)) {
            ErlNifBinary binary;
            if (enif_inspect_binary(env, arg, &binary)) bytes += static_cast<double>(binary.size);
        }
    }
    return bytes / 8.0 * cost::copy;
}

ERL_NIF_TERM request_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const std::shared_ptr<redis::Engine>& engine = get_engine(env, argv[0]);
    if (!enif_is_ref(env, argv[1])) throw std::invalid_argument("expected a reference, got: " + describe(env, argv[1]));
    redis::Request request;
    std::size_t commands = 0;
    ERL_NIF_TERM head, tail = argv[2];
    std::vector<std::string_view> args;
    for (; enif_get_list_cell(env, tail, &head, &tail); ++commands) append_one(env, head, args, request.wire);
    tail = argv[3];
    while (enif_get_list_cell(env, tail, &head, &tail)) request.slots.push_back(decode_slot(env, head));
    if (commands == 0) throw std::invalid_argument("a request needs at least one command");
    // One reply per command: a mismatch would desynchronise the connection.
    if (request.slots.size() != commands) {
        throw std::invalid_argument("a request needs one reply slot per command, got " +
                                    std::to_string(request.slots.size()) + " for " + std::to_string(commands));
    }
    const Shape shape = enif_is_identical(argv[4], atoms::single) ? Shape::single : Shape::many;
    const long timeout_ms = decode_int(env, argv[5], "timeout", 0, 1L << 40);
    request.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto caller = std::make_unique<NifCaller>(env, argv[1], shape, engine);
    NifCaller& watch = *caller;
    request.caller = std::move(caller);
    // submit takes the request only when it accepts it: a refused one stays
    // here, its caller alive until this returns, so the monitor can be
    // undone first, on this scheduler.
    if (const auto refused = engine->submit(std::move(request))) {
        watch.refused(env);
        return enif_make_tuple2(env, atoms::error, failure_term(env, *refused, engine.get()));
    }
    return atoms::ok;
}

ERL_NIF_TERM stop_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    get_engine(env, argv[0])->stop();
    return atoms::ok;
}

ERL_NIF_TERM own_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    EngineResource& resource = get_engine_resource(env, argv[0]);
    ErlNifPid self;
    enif_self(env, &self);
    if (enif_monitor_process(env, &resource, &self, nullptr) != 0) {
        throw std::runtime_error("analytics: cannot monitor the connection process");
    }
    return atoms::ok;
}

ERL_NIF_TERM pending_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    return enif_make_uint64(env, get_engine(env, argv[0])->pending());
}

// Module instances loaded (load, upgrade) and not yet unloaded; under the
// code loading lock, so never two at once.
int loaded_instances = 0;

}  // namespace

void close_engine_instance() {
    if (--loaded_instances == 0) redis::ReactorPool::instance().stop_all();
}

bool open_engine_resource(ErlNifEnv* env) {
    ++loaded_instances;
    ErlNifResourceTypeInit engine_init{};
    engine_init.dtor = destroy_engine;
    engine_init.down = engine_owner_down;
    engine_type = enif_open_resource_type_x(env, "analytics_redis_engine", &engine_init, kCreateOrTakeOver, nullptr);
    ErlNifResourceTypeInit watch_init{};
    watch_init.dtor = destroy_watch;
    watch_init.down = watched_process_down;
    watch_type = enif_open_resource_type_x(env, "analytics_redis_caller", &watch_init, kCreateOrTakeOver, nullptr);
    return engine_type != nullptr && watch_type != nullptr;
}

ERL_NIF_TERM redis_connect(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<connect_body>(env, argc, argv);
}

ERL_NIF_TERM redis_request(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<request_body, request_cost>(env, argc, argv);
}

ERL_NIF_TERM redis_stop(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<stop_body>(env, argc, argv);
}

ERL_NIF_TERM redis_own(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<own_body>(env, argc, argv);
}

ERL_NIF_TERM redis_pending(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<pending_body>(env, argc, argv);
}

}  // namespace analytics::nif
