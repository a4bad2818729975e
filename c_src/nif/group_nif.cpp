#include "group_nif.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "../kernels/group_reduce.hpp"
#include "column_terms.hpp"
#include "reducer_terms.hpp"
#include "schedule.hpp"
#include "series_resource.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

ERL_NIF_TERM encode_groups(ErlNifEnv* env, const kernels::GroupResult& result) {
    std::vector<ERL_NIF_TERM> terms{make_series(env, result.keys)};
    for (const auto& column : result.columns) {
        terms.push_back(std::visit([env](const auto& values) { return make_series(env, values); }, column));
    }
    return enif_make_list_from_array(env, terms.data(), static_cast<unsigned>(terms.size()));
}

double grouping_cost(ErlNifEnv* env, ERL_NIF_TERM keys, ERL_NIF_TERM reducers) {
    return column_cost(env, keys, cost::grouping + per_element_cost(decode_reducers(env, reducers)));
}

double group_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) { return grouping_cost(env, argv[0], argv[2]); }

ERL_NIF_TERM group_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series keys = decode_i64_column(env, argv[0], "group keys");
    const series::Series values = decode_column(env, argv[1]);
    const auto reducers = decode_reducers(env, argv[2]);
    const auto key_view = std::get<std::span<const std::int64_t>>(keys.view());
    return encode_groups(env, kernels::group_reduce(key_view, values.view(), reducers));
}

double bucket_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) { return grouping_cost(env, argv[0], argv[3]); }

ERL_NIF_TERM bucket_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series timestamps = decode_i64_column(env, argv[0], "timestamps");
    const series::Series values = decode_column(env, argv[1]);
    ErlNifSInt64 width;
    if (!enif_get_int64(env, argv[2], &width) || width < 1) {
        throw std::invalid_argument("bucket width must be a positive integer, got: " + describe(env, argv[2]));
    }
    const auto reducers = decode_reducers(env, argv[3]);
    const auto starts = kernels::bucket_starts(std::get<std::span<const std::int64_t>>(timestamps.view()), width);
    return encode_groups(env, kernels::group_reduce(starts, values.view(), reducers));
}

}  // namespace

ERL_NIF_TERM group_reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<group_body, group_cost>(env, argc, argv);
}

ERL_NIF_TERM bucket_reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<bucket_body, bucket_cost>(env, argc, argv);
}

}  // namespace analytics::nif
