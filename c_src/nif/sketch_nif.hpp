// NIF entry points for the encoded sketches inside %Analytics.State{}
// (registered in module.cpp). Sketches are small (16 KiB at most for a
// HyperLogLog), so these run on the normal scheduler.
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// sketch_merge(binary, binary) -> binary of the same kind
ERL_NIF_TERM sketch_merge(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// sketch_estimate(binary, :approx_n_distinct | {:approx_quantile, q}) -> value | nil
ERL_NIF_TERM sketch_estimate(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
