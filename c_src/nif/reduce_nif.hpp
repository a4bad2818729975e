// NIF entry point behind Analytics.reduce (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// reduce(series_or_list, [reducer_spec]) -> [value]
ERL_NIF_TERM reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
