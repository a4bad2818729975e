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

// Where read_number_list puts the values of a list, a block at a time.
class NumberBlocks {
public:
    virtual ~NumberBlocks() = default;
    // Whether start() needs the list's length: finding it walks the list once
    // more before reading it.
    virtual bool needs_length() const { return true; }
    // Before the first block: the dtype of the blocks to come and the list's
    // length (0 unless needs_length()). Called again with :f64 when an inferred list turns out to hold
    // a float after integers: everything starts over from the first element.
    virtual void start(series::Dtype dtype, std::size_t length) = 0;
    // kListBlock values, fewer only in the last block.
    virtual void block(kernels::ColumnView values) = 0;
};

inline constexpr std::size_t kListBlock = 2048;

// Reads a list as decode_number_list does (same dtype rules, same errors)
// through a small per-thread buffer, without ever holding the whole column.
void read_number_list(ErlNifEnv* env, ERL_NIF_TERM list, ListDtype dtype, NumberBlocks& out);

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
