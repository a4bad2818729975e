// NIF entry points behind Analytics.group_reduce and Analytics.bucket_reduce
// (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// group_reduce(keys, values, [reducer_spec]) -> [keys_series | reducer_series]
ERL_NIF_TERM group_reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// bucket_reduce(timestamps, values, width, [reducer_spec]) -> [starts_series | reducer_series]
ERL_NIF_TERM bucket_reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
