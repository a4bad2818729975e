// Terms as Elixir's inspect/1 writes them, for error messages: users read
// `[dtype: :i64]` and `"f64"`, not Erlang's `[{dtype,i64}]` and `<<"f64">>`.
#pragma once

#include <erl_nif.h>

#include <string>

namespace analytics::nif {

// The start of the term's inspect/1 form, cut with "..." past a few dozen
// characters (terms can be huge; an error message needs only their start).
std::string describe(ErlNifEnv* env, ERL_NIF_TERM term);

}  // namespace analytics::nif
