// Input columns: a Series, or a plain list of numbers decoded into a new one.
#pragma once

#include <erl_nif.h>

#include <vector>

#include "../kernels/column_view.hpp"
#include "../series/series.hpp"

namespace analytics::nif {

// Throws std::invalid_argument for anything but a Series or a list of numbers.
series::Series decode_column(ErlNifEnv* env, ERL_NIF_TERM term);
// The same, and :i64 (keys, timestamps); `what` names it in errors.
series::Series decode_i64_column(ErlNifEnv* env, ERL_NIF_TERM term, const char* what);

// The cost of `per_element` ns over a column, plus decoding if it is a list.
double column_cost(ErlNifEnv* env, ERL_NIF_TERM term, double per_element);

// Several columns (a non-empty list of them), kept alive with their views.
struct Columns {
    std::vector<series::Series> series;
    std::vector<kernels::ColumnView> views;
};

Columns decode_columns(ErlNifEnv* env, ERL_NIF_TERM list);
double columns_cost(ErlNifEnv* env, ERL_NIF_TERM list, double per_element);

}  // namespace analytics::nif
