// NIF entry points behind Analytics.reduce/2 and /3 (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// reduce(series_or_list, [reducer_spec]) -> [value]
ERL_NIF_TERM reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// fused_reduce([column], map_tree | nil, where_tree | nil, [reducer_spec]) -> [value]
ERL_NIF_TERM fused_reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
