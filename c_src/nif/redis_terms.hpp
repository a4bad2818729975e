// Redis replies and errors as Elixir terms.
#pragma once

#include <erl_nif.h>

#include <string_view>

#include "../redis/engine.hpp"

namespace analytics::nif {

// %Analytics.Redis.Error{message: message}
ERL_NIF_TERM make_redis_error(ErlNifEnv* env, std::string_view message);
// %Analytics.Redis.ConnectionError{reason: reason, address: address, cause: cause}
ERL_NIF_TERM make_connection_error(ErlNifEnv* env, ERL_NIF_TERM reason, ERL_NIF_TERM address = 0,
                                   ERL_NIF_TERM cause = 0);
ERL_NIF_TERM failure_reason(redis::FailureKind kind);

// A reply as Redix gives it: binaries, integers, nil, lists, and
// %Analytics.Redis.Error{} for error replies.
ERL_NIF_TERM reply_to_term(ErlNifEnv* env, const redis::ReplyTree& tree);
// One slot: a reply term, a %Series{}, a tuple of them (several columns), or an %Error{}.
ERL_NIF_TERM slot_to_term(ErlNifEnv* env, redis::SlotResult& slot);
// Whether a slot holds an error (for {:error, _} of single-slot requests).
bool is_error_slot(const redis::SlotResult& slot);

}  // namespace analytics::nif
