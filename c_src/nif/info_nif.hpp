// NIF entry point behind Analytics.info (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// %{simd: atom, simd_supported: [atom], normal_scheduler_budget_ns: integer}
ERL_NIF_TERM info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
