#include "downsample_nif.hpp"

#include <stdexcept>
#include <string>

#include "../kernels/downsample.hpp"
#include "atoms.hpp"
#include "column_terms.hpp"
#include "schedule.hpp"
#include "series_resource.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

// An end of the range, or the given default for nil.
std::int64_t range_end(ErlNifEnv* env, ERL_NIF_TERM term, std::int64_t otherwise, const char* what) {
    if (enif_is_identical(term, atoms::nil)) return otherwise;
    ErlNifSInt64 value;
    if (!enif_get_int64(env, term, &value)) {
        throw std::invalid_argument(std::string(what) + " must be an integer time or nil, got: " + describe(env, term));
    }
    return value;
}

double downsample_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    return column_cost(env, argv[0], cost::downsampling) + column_cost(env, argv[1], 0.0);
}

ERL_NIF_TERM downsample_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series times = decode_i64_column(env, argv[0], "times");
    const series::Series values = decode_column(env, argv[1]);
    const auto time_view = std::get<std::span<const std::int64_t>>(times.view());
    const std::int64_t from = range_end(env, argv[2], time_view.empty() ? 0 : time_view.front(), "from");
    const std::int64_t to = range_end(env, argv[3], time_view.empty() ? 0 : time_view.back(), "to");
    const std::size_t width = decode_size(env, argv[4], "width");
    kernels::Points points;
    if (enif_is_identical(argv[5], atoms::m4)) {
        points = kernels::m4(time_view, values.view(), from, to, width);
    } else if (enif_is_identical(argv[5], atoms::lttb)) {
        points = kernels::lttb(time_view, values.view(), from, to, width);
    } else {
        throw std::invalid_argument("method must be :m4 or :lttb, got: " + describe(env, argv[5]));
    }
    ERL_NIF_TERM columns[] = {make_series(env, points.times), make_series(env, points.values)};
    return enif_make_list_from_array(env, columns, 2);
}

}  // namespace

ERL_NIF_TERM downsample(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<downsample_body, downsample_cost>(env, argc, argv);
}

}  // namespace analytics::nif
