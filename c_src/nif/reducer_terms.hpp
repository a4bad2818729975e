// Reducer specs in, reduced values out.
#pragma once

#include <erl_nif.h>

#include <vector>

#include "../kernels/reduce.hpp"

namespace analytics::nif {

// A list of reducer specs as Analytics.Reducers.normalize/1 makes them.
std::vector<kernels::Reducer> decode_reducers(ErlNifEnv* env, ERL_NIF_TERM list);

// Estimated nanoseconds per element for a set of reducers (see schedule.hpp).
double per_element_cost(const std::vector<kernels::Reducer>& reducers);

// nil, a float (or non-finite atom), or an integer (a bignum where needed).
ERL_NIF_TERM encode_value(ErlNifEnv* env, const kernels::ReduceValue& value);

}  // namespace analytics::nif
