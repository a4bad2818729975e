// Atoms the glue uses, made once at load time.
#pragma once

#include <erl_nif.h>

namespace analytics::nif::atoms {

extern ERL_NIF_TERM nil, true_, false_;
extern ERL_NIF_TERM nan, infinity, neg_infinity;
extern ERL_NIF_TERM f64, i64;
extern ERL_NIF_TERM struct_, exception, message, resource, dtype, size;
extern ERL_NIF_TERM series_module, argument_error, runtime_error;
extern ERL_NIF_TERM sum, count, min, max, mean, variance, standard_deviation, product, argmin, argmax, quantile,
    n_distinct;
extern ERL_NIF_TERM column, constant;
extern ERL_NIF_TERM approx_n_distinct, approx_quantile, hll_state, dd_state;
extern ERL_NIF_TERM m4, lttb;

// Redis engine messages and errors.
extern ERL_NIF_TERM ok, error, analytics_redis, reason, address, cause, redis_error, redis_connection_error;
extern ERL_NIF_TERM timeout, disconnected, closed, protocol_error, reply_too_large;
extern ERL_NIF_TERM tree, packed, elements, odd_elements, member_score_pairs, field_value_pairs, stream_fields, single,
    many;

void init(ErlNifEnv* env);

}  // namespace analytics::nif::atoms
