// NIF entry points behind Analytics.map and Analytics.filter (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// map([column], expression_tree) -> %Analytics.Series{} (:i64 when the
// expression is integer arithmetic on integers, else :f64)
ERL_NIF_TERM map(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// filter([column], predicate_tree) -> [%Analytics.Series{}], one per column
ERL_NIF_TERM filter(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
