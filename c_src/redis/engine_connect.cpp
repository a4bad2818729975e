// Connecting, as a state machine on the reactor: resolve (at once for an
// address or a Unix path, on the resolver thread for a name), a
// non-blocking connect to each address in turn, the transport's handshake
// (TLS), then AUTH and SELECT, all within the connect timeout; after a
// failure, a retry with exponential backoff and jitter.
#include <sys/epoll.h>

#include <random>

#include "command.hpp"
#include "engine.hpp"
#include "plain_transport.hpp"
#include "resolver.hpp"

namespace analytics::redis {

namespace {

using Clock = std::chrono::steady_clock;

// AUTH and SELECT answer +OK or an error line.
constexpr std::size_t kHandshakeReplyBytes = 64 * 1024;

std::chrono::milliseconds jitter(std::chrono::milliseconds backoff) {
    thread_local std::mt19937 rng(std::random_device{}());
    return std::chrono::milliseconds(std::uniform_int_distribution<long>(0, backoff.count() / 2)(rng));
}

}  // namespace

void Engine::begin_attempt() {
    attempt_deadline_ = Clock::now() + options_.connect_timeout;
    reactor_.at(attempt_deadline_, shared_from_this());
    last_socket_error_ = "no address";
    if (auto at_once = resolve_at_once(endpoint_)) {
        addresses_ = std::move(at_once->addresses);
        address_index_ = 0;
        if (addresses_.empty()) return attempt_failed(ConnectError(at_once->error, false));
        return connect_next();
    }
    {
        const std::lock_guard lock(mutex_);
        resolved_.reset();
    }
    state_ = State::resolving;
    std::weak_ptr<Engine> weak = shared_from_this();
    ReactorPool::instance().resolver().resolve(endpoint_, [weak](Resolved resolved) {
        if (auto engine = weak.lock()) {
            {
                const std::lock_guard lock(engine->mutex_);
                engine->resolved_ = std::move(resolved);
            }
            engine->reactor_.attend(engine);
        }
    });
}

void Engine::take_resolved() {
    std::optional<Resolved> resolved;
    {
        const std::lock_guard lock(mutex_);
        resolved.swap(resolved_);
    }
    if (!resolved) return;  // woken for something else
    addresses_ = std::move(resolved->addresses);
    address_index_ = 0;
    if (addresses_.empty()) return attempt_failed(ConnectError(resolved->error, false));
    connect_next();
}

// Tries the addresses in turn, from address_index_.
void Engine::connect_next() {
    for (; address_index_ < addresses_.size(); ++address_index_) {
        try {
            Connecting connecting = start_connect(addresses_[address_index_]);
            connecting_ = std::move(connecting.socket);
            fd_ = connecting_.get();
            if (!connecting.in_progress) return socket_connected();
            state_ = State::connecting;
            reactor_.watch(*this, fd_, true);
            return;
        } catch (const ConnectError& e) {
            last_socket_error_ = e.what();
        }
    }
    attempt_failed(ConnectError(last_socket_error_, false));
}

void Engine::advance_connect(std::uint32_t events) {
    switch (state_) {
        case State::connecting: {
            if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
            if (auto error = connect_error(fd_); !error.empty()) {
                last_socket_error_ = std::move(error);
                reactor_.unwatch(fd_);
                connecting_ = Fd();
                fd_ = -1;
                ++address_index_;
                return connect_next();
            }
            return socket_connected();
        }
        case State::handshaking: return drive_transport_handshake();
        case State::authenticating: return drive_auth();
        default: return;
    }
}

void Engine::socket_connected() {
    std::unique_ptr<Transport> transport;
    try {
        transport = options_.make_transport ? options_.make_transport(std::move(connecting_))
                                            : std::make_unique<PlainTransport>(std::move(connecting_));
    } catch (const std::exception& e) {
        return attempt_failed(ConnectError(e.what(), false));
    }
    fd_ = transport->fd();
    {
        const std::lock_guard lock(mutex_);
        transport_ = std::move(transport);
    }
    state_ = State::handshaking;
    reactor_.watch(*this, fd_, false);
    watching_writes_ = false;
    drive_transport_handshake();
}

void Engine::drive_transport_handshake() {
    IoResult result;
    {
        const std::lock_guard lock(mutex_);
        result = transport_->handshake();
    }
    switch (result.status) {
        case IoStatus::done: return begin_auth();
        case IoStatus::want_read: return watch_writes(false);
        case IoStatus::want_write: return watch_writes(true);
        case IoStatus::closed: return attempt_failed(ConnectError("closed", false));
        case IoStatus::failed: return attempt_failed(ConnectError(result.error, false));
    }
}

void Engine::begin_auth() {
    auth_out_.clear();
    auth_sent_ = 0;
    auth_replies_ = 0;
    if (!endpoint_.password.empty()) {
        if (endpoint_.username.empty()) {
            auth_out_ += format_command({"AUTH", endpoint_.password});
        } else {
            auth_out_ += format_command({"AUTH", endpoint_.username, endpoint_.password});
        }
        ++auth_replies_;
    }
    if (endpoint_.database != 0) {
        auth_out_ += format_command({"SELECT", std::to_string(endpoint_.database)});
        ++auth_replies_;
    }
    // In TLS 1.3 the client's handshake is over before the server has judged
    // the client's certificate: its refusal arrives with the first reply. A
    // PING makes the connect report it, as it reports any other TLS failure.
    if (options_.make_transport && auth_replies_ == 0) {
        auth_out_ += format_command({"PING"});
        ++auth_replies_;
    }
    if (auth_replies_ == 0) return became_connected();
    reader_ = make_reader();
    target_.reset();
    state_ = State::authenticating;
    drive_auth();
}

// Sends AUTH and SELECT and reads their replies, as far as the socket lets.
void Engine::drive_auth() {
    while (auth_sent_ < auth_out_.size()) {
        IoResult result;
        {
            const std::lock_guard lock(mutex_);
            result = transport_->write(std::span(auth_out_).subspan(auth_sent_));
        }
        if (result.status == IoStatus::done) {
            auth_sent_ += result.bytes;
        } else if (result.status == IoStatus::closed || result.status == IoStatus::failed) {
            return attempt_failed(ConnectError(result.error.empty() ? "closed" : result.error, false));
        } else {
            break;
        }
    }
    watch_writes(auth_sent_ < auth_out_.size());
    if (auto failure = read_auth_replies()) return attempt_failed(*failure);
    if (auth_replies_ == 0) became_connected();
}

std::optional<ConnectError> Engine::read_auth_replies() {
    char buffer[4096];
    for (;;) {
        while (auth_replies_ > 0) {
            target_.aim(nullptr, false);
            set_reply_target(reader_.get(), &target_);
            void* root = nullptr;
            if (redisReaderGetReply(reader_.get(), &root) != REDIS_OK) return ConnectError("protocol_error", false);
            if (!root) break;
            const ReplyTree& reply = target_.tree;
            if (reply.root().type == ReplyTree::Type::error) {
                return ConnectError(std::string(reply.text(reply.root())), true);
            }
            target_.reset();
            --auth_replies_;
        }
        // Nothing else was sent: any byte more is not Redis talking.
        if (auth_replies_ == 0) {
            if (reader_->len > reader_->pos) return ConnectError("protocol_error", false);
            return std::nullopt;
        }
        IoResult result;
        {
            const std::lock_guard lock(mutex_);
            result = transport_->read(buffer);
        }
        if (result.status == IoStatus::want_read || result.status == IoStatus::want_write) return std::nullopt;
        if (result.status == IoStatus::closed) return ConnectError("closed", false);
        if (result.status == IoStatus::failed) return ConnectError(result.error, false);
        redisReaderFeed(reader_.get(), buffer, result.bytes);
        if (reader_->len - reader_->pos > kHandshakeReplyBytes) return ConnectError("protocol_error", false);
    }
}

void Engine::became_connected() {
    {
        const std::lock_guard lock(mutex_);
        connected_ = true;
        first_attempt_ = false;
        last_attempt_.reset();
    }
    first_attempt_over_.notify_all();
    backoff_ = kFirstBackoff;
    reader_ = make_reader();
    target_.reset();
    receiver_.reset();
    head_since_ = Clock::now();
    state_ = State::connected;
    // Requests queued during the first attempt go now; the rest of step()
    // watches for writes while some remain.
    if (!flush_outbox()) lose_connection(FailureKind::disconnected);
}

void Engine::close_socket() {
    std::unique_ptr<Transport> transport;
    {
        const std::lock_guard lock(mutex_);
        transport = std::move(transport_);
    }
    if (fd_ >= 0) reactor_.unwatch(fd_);
    fd_ = -1;
    watching_writes_ = false;
    connecting_ = Fd();
}

void Engine::attempt_failed(const ConnectError& why) {
    close_socket();
    bool was_first;
    {
        const std::lock_guard lock(mutex_);
        last_attempt_ = why;
        was_first = std::exchange(first_attempt_, false);
        if (was_first) {
            // The requests that waited for the first attempt: refused now.
            take_inbox_locked();
            outbox_.clear();
            outbox_sent_ = 0;
        }
    }
    first_attempt_over_.notify_all();
    if (was_first) fail_in_flight(FailureKind::closed);
    schedule_retry();
}

void Engine::schedule_retry() {
    state_ = State::idle;
    retry_at_ = Clock::now() + backoff_ + jitter(backoff_);
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    reactor_.at(retry_at_, shared_from_this());
}

}  // namespace analytics::redis
