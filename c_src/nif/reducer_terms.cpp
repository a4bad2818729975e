#include "reducer_terms.hpp"

#include <stdexcept>
#include <string>

#include "atoms.hpp"
#include "schedule.hpp"
#include "terms.hpp"

namespace analytics::nif {

using kernels::Reducer;
using kernels::ReducerKind;

namespace {

// Far more than anyone asks for at once, and it bounds the work the spec
// decoder does on a normal scheduler.
constexpr unsigned kMaxReducers = 256;

ReducerKind decode_plain(ErlNifEnv* env, ERL_NIF_TERM atom) {
    struct Named {
        ERL_NIF_TERM& atom;
        ReducerKind kind;
    };
    const Named plain[] = {
        {atoms::sum, ReducerKind::sum},         {atoms::count, ReducerKind::count},
        {atoms::min, ReducerKind::min},         {atoms::max, ReducerKind::max},
        {atoms::mean, ReducerKind::mean},       {atoms::product, ReducerKind::product},
        {atoms::argmin, ReducerKind::argmin},   {atoms::argmax, ReducerKind::argmax},
        {atoms::n_distinct, ReducerKind::n_distinct},
        {atoms::approx_n_distinct, ReducerKind::approx_n_distinct},
        {atoms::hll_state, ReducerKind::hll_state},
        {atoms::dd_state, ReducerKind::dd_state},
    };
    for (const Named& named : plain) {
        if (enif_is_identical(atom, named.atom)) return named.kind;
    }
    throw std::invalid_argument("unknown reducer: " + describe(env, atom));
}

// {:variance, ddof} | {:standard_deviation, ddof} | {:quantile, q} | {:approx_quantile, q}
Reducer decode_parameterised(ErlNifEnv* env, ERL_NIF_TERM spec) {
    int arity;
    const ERL_NIF_TERM* items;
    if (!enif_get_tuple(env, spec, &arity, &items) || arity != 2) {
        throw std::invalid_argument("unknown reducer: " + describe(env, spec));
    }
    Reducer reducer{ReducerKind::sum};
    if (enif_is_identical(items[0], atoms::variance)) {
        reducer.kind = ReducerKind::variance;
    } else if (enif_is_identical(items[0], atoms::standard_deviation)) {
        reducer.kind = ReducerKind::standard_deviation;
    } else if (enif_is_identical(items[0], atoms::quantile)) {
        reducer.kind = ReducerKind::quantile;
    } else if (enif_is_identical(items[0], atoms::approx_quantile)) {
        reducer.kind = ReducerKind::approx_quantile;
    } else {
        throw std::invalid_argument("unknown reducer: " + describe(env, spec));
    }
    ErlNifSInt64 integer;
    if (enif_get_int64(env, items[1], &integer)) {
        reducer.parameter = static_cast<double>(integer);
    } else if (!enif_get_double(env, items[1], &reducer.parameter)) {
        throw std::invalid_argument("reducer parameter must be a number, got: " + describe(env, spec));
    }
    return reducer;
}

}  // namespace

std::vector<Reducer> decode_reducers(ErlNifEnv* env, ERL_NIF_TERM list) {
    unsigned length;
    if (!enif_get_list_length(env, list, &length) || length == 0 || length > kMaxReducers) {
        throw std::invalid_argument("expected a list of 1 to " + std::to_string(kMaxReducers) +
                                    " reducers, got: " + describe(env, list));
    }
    std::vector<Reducer> reducers;
    ERL_NIF_TERM head, tail = list;
    while (enif_get_list_cell(env, tail, &head, &tail)) {
        reducers.push_back(enif_is_atom(env, head) ? Reducer{decode_plain(env, head)} : decode_parameterised(env, head));
    }
    return reducers;
}

double per_element_cost(const std::vector<Reducer>& reducers) {
    double ns = cost::streaming_reduce;
    for (const Reducer& r : reducers) {
        if (r.kind == ReducerKind::quantile) ns += cost::selection;
        if (r.kind == ReducerKind::n_distinct) ns += cost::hashing;
        if (r.kind == ReducerKind::approx_quantile || r.kind == ReducerKind::dd_state) ns += cost::sketching;
        if (r.kind == ReducerKind::approx_n_distinct || r.kind == ReducerKind::hll_state) ns += cost::sketching;
    }
    return ns;
}

ERL_NIF_TERM encode_value(ErlNifEnv* env, const kernels::ReduceValue& value) {
    return std::visit(
        [env](const auto& v) -> ERL_NIF_TERM {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return atoms::nil;
            } else if constexpr (std::is_same_v<T, double>) {
                return encode_double(env, v);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                return enif_make_int64(env, v);
            } else if constexpr (std::is_same_v<T, std::string>) {
                return make_binary(env, v);
            } else {
                return encode_int128(env, v);
            }
        },
        value);
}

}  // namespace analytics::nif
