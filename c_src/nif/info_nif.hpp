// NIF entry points behind Analytics.info, Analytics.native_counters and
// Analytics.release_memory
// (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// %{simd: atom, simd_supported: [atom], normal_scheduler_budget_ns: integer}
ERL_NIF_TERM info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// %{column_buffers, column_bytes, redis_engines, redis_requests, retained_bytes}:
// what is alive or kept now.
ERL_NIF_TERM native_counters(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// Frees the buffers kept for reuse; the bytes freed.
ERL_NIF_TERM release_memory(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
