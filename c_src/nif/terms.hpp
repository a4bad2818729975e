// Conversions between Erlang terms and C++ values. Every decoder checks its
// term and throws std::invalid_argument naming the offending value.
#pragma once

#include <erl_nif.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "../series/series.hpp"
#include "describe.hpp"

namespace analytics::nif {

// :f64 | :i64
series::Dtype decode_dtype(ErlNifEnv* env, ERL_NIF_TERM term);
ERL_NIF_TERM encode_dtype(series::Dtype dtype);

// A non-negative integer that fits in size_t; `what` names it in errors.
std::size_t decode_size(ErlNifEnv* env, ERL_NIF_TERM term, std::string_view what);

// A float, an integer (as a double) or :nan / :infinity / :neg_infinity;
// `what` names it in errors.
double decode_double(ErlNifEnv* env, ERL_NIF_TERM term, std::string_view what);

// What dtype a list of numbers becomes: as asked, or inferred (integers only
// give :i64, any float or non-finite atom gives :f64).
enum class ListDtype { infer, f64, i64 };

// A proper list of numbers and :nan / :infinity / :neg_infinity.
series::ColumnData decode_number_list(ErlNifEnv* env, ERL_NIF_TERM list, ListDtype dtype);

// Walks at most `limit` cells: the length, or limit + 1 if the list is longer
// (or not a list at all: 0). Cheap enough for a normal scheduler.
std::size_t list_length_upto(ErlNifEnv* env, ERL_NIF_TERM list, std::size_t limit);

// A new binary holding `bytes`.
ERL_NIF_TERM make_binary(ErlNifEnv* env, std::string_view bytes);

// An Elixir exception struct: %{__struct__: module, __exception__: true, field => value}.
ERL_NIF_TERM make_exception(ErlNifEnv* env, ERL_NIF_TERM module, ERL_NIF_TERM field, ERL_NIF_TERM value);

// Floats, with :nan / :infinity / :neg_infinity where Erlang floats cannot go.
ERL_NIF_TERM encode_double(ErlNifEnv* env, double value);
// Small integers, or a bignum beyond the 64-bit range.
ERL_NIF_TERM encode_int128(ErlNifEnv* env, __int128 value);

}  // namespace analytics::nif
