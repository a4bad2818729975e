#include "atoms.hpp"

namespace analytics::nif::atoms {

ERL_NIF_TERM nil, true_, false_;
ERL_NIF_TERM nan, infinity, neg_infinity;
ERL_NIF_TERM f64, i64;
ERL_NIF_TERM struct_, exception, message, resource, dtype, size;
ERL_NIF_TERM series_module, argument_error, runtime_error;
ERL_NIF_TERM sum, count, min, max, mean, variance, standard_deviation, product, argmin, argmax, quantile, n_distinct;
ERL_NIF_TERM column, constant;
ERL_NIF_TERM approx_n_distinct, approx_quantile, hll_state, dd_state;
ERL_NIF_TERM m4, lttb;
ERL_NIF_TERM ok, error, analytics_redis, reason, address, cause, redis_error, redis_connection_error;
ERL_NIF_TERM timeout, disconnected, closed, protocol_error, reply_too_large;
ERL_NIF_TERM tree, packed, elements, odd_elements, member_score_pairs, field_value_pairs, stream_fields, single, many;

void init(ErlNifEnv* env) {
    auto atom = [env](const char* name) { return enif_make_atom(env, name); };
    nil = atom("nil");
    column = atom("column");
    constant = atom("constant");
    approx_n_distinct = atom("approx_n_distinct");
    approx_quantile = atom("approx_quantile");
    m4 = atom("m4");
    lttb = atom("lttb");
    hll_state = atom("hll_state");
    dd_state = atom("dd_state");
    true_ = atom("true");
    false_ = atom("false");
    nan = atom("nan");
    infinity = atom("infinity");
    neg_infinity = atom("neg_infinity");
    f64 = atom("f64");
    i64 = atom("i64");
    struct_ = atom("__struct__");
    exception = atom("__exception__");
    message = atom("message");
    resource = atom("resource");
    dtype = atom("dtype");
    size = atom("size");
    series_module = atom("Elixir.Analytics.Series");
    argument_error = atom("Elixir.ArgumentError");
    runtime_error = atom("Elixir.RuntimeError");
    sum = atom("sum");
    count = atom("count");
    min = atom("min");
    max = atom("max");
    mean = atom("mean");
    variance = atom("variance");
    standard_deviation = atom("standard_deviation");
    product = atom("product");
    argmin = atom("argmin");
    argmax = atom("argmax");
    quantile = atom("quantile");
    n_distinct = atom("n_distinct");
    ok = atom("ok");
    error = atom("error");
    analytics_redis = atom("analytics_redis");
    reason = atom("reason");
    address = atom("address");
    cause = atom("cause");
    redis_error = atom("Elixir.Analytics.Redis.Error");
    redis_connection_error = atom("Elixir.Analytics.Redis.ConnectionError");
    timeout = atom("timeout");
    disconnected = atom("disconnected");
    closed = atom("closed");
    protocol_error = atom("protocol_error");
    reply_too_large = atom("reply_too_large");
    tree = atom("tree");
    packed = atom("packed");
    elements = atom("elements");
    odd_elements = atom("odd_elements");
    member_score_pairs = atom("member_score_pairs");
    field_value_pairs = atom("field_value_pairs");
    stream_fields = atom("stream_fields");
    single = atom("single");
    many = atom("many");
}

}  // namespace analytics::nif::atoms
