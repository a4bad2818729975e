// NIF entry point behind Analytics.map (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// map([column], expression_tree) -> %Analytics.Series{dtype: :f64}
ERL_NIF_TERM map(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
