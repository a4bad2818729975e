#include "sketch_nif.hpp"

#include <stdexcept>
#include <string_view>

#include "../kernels/sketches.hpp"
#include "atoms.hpp"
#include "boundary.hpp"
#include "reducer_terms.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

std::string_view bytes_of(ErlNifEnv* env, ERL_NIF_TERM term) {
    ErlNifBinary binary;
    if (!enif_inspect_binary(env, term, &binary)) {
        throw std::invalid_argument("expected an encoded sketch (a binary), got: " + describe(env, term));
    }
    return {reinterpret_cast<const char*>(binary.data), binary.size};
}

bool is_hll(std::string_view bytes) { return bytes.starts_with("AHLL"); }

ERL_NIF_TERM merge_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const auto a = bytes_of(env, argv[0]);
    const auto b = bytes_of(env, argv[1]);
    if (is_hll(a)) {
        auto sketch = kernels::HyperLogLog::decode(a);
        sketch.merge(kernels::HyperLogLog::decode(b));
        return make_binary(env, sketch.encode());
    }
    auto sketch = kernels::DDSketch::decode(a);
    sketch.merge(kernels::DDSketch::decode(b));
    return make_binary(env, sketch.encode());
}

ERL_NIF_TERM estimate_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const auto bytes = bytes_of(env, argv[0]);
    const auto reducers = decode_reducers(env, enif_make_list1(env, argv[1]));
    const kernels::Reducer& r = reducers.front();
    if (r.kind == kernels::ReducerKind::approx_n_distinct) {
        return encode_value(env, kernels::HyperLogLog::decode(bytes).estimate());
    }
    if (r.kind != kernels::ReducerKind::approx_quantile || !(r.parameter >= 0.0 && r.parameter <= 1.0)) {
        throw std::invalid_argument("expected :approx_n_distinct or {:approx_quantile, q}, got: " +
                                    describe(env, argv[1]));
    }
    const auto sketch = kernels::DDSketch::decode(bytes);
    if (sketch.count() == 0) return atoms::nil;
    return encode_value(env, sketch.quantile(r.parameter));
}

}  // namespace

ERL_NIF_TERM sketch_merge(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<merge_body>(env, argc, argv);
}

ERL_NIF_TERM sketch_estimate(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<estimate_body>(env, argc, argv);
}

}  // namespace analytics::nif
