// NIF entry point behind Analytics.downsample/4.
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// downsample(times, values, from | nil, to | nil, width, :m4 | :lttb)
//   -> [times_series, values_series]. nil ends are the first and last time.
ERL_NIF_TERM downsample(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
