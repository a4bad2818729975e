// NIFs behind Analytics.Series.
#include "series_nif.hpp"

#include <cstring>
#include <stdexcept>
#include <vector>

#include "../kernels/cast.hpp"
#include "../kernels/sort.hpp"
#include "atoms.hpp"
#include "schedule.hpp"
#include "series_resource.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

// A list of series is walked this far on a normal scheduler; longer lists
// are summed up on a dirty one.
constexpr std::size_t kConcatPiecesOnNormal = 256;

double from_list_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) { return list_cost(env, argv[0], cost::list_decode); }

ERL_NIF_TERM from_list(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const auto dtype = decode_dtype(env, argv[1]) == series::Dtype::f64 ? ListDtype::f64 : ListDtype::i64;
    return make_series(env, series::Series(decode_number_list(env, argv[0], dtype)));
}

double from_binary_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    ErlNifBinary binary;
    return enif_inspect_binary(env, argv[0], &binary) ? static_cast<double>(binary.size / 8) * cost::copy : 0.0;
}

template <typename T>
series::ColumnData copy_values(const ErlNifBinary& binary) {
    series::AlignedVector<T> values(binary.size / sizeof(T));
    if (binary.size) std::memcpy(values.data(), binary.data, binary.size);
    return series::ColumnData(std::move(values));
}

ERL_NIF_TERM from_binary(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    ErlNifBinary binary;
    if (!enif_inspect_binary(env, argv[0], &binary)) {
        throw std::invalid_argument("expected a binary, got: " + describe(env, argv[0]));
    }
    const series::Dtype dtype = decode_dtype(env, argv[1]);
    if (binary.size % 8 != 0) {
        throw std::invalid_argument("a binary of " + std::to_string(binary.size) +
                                    " bytes is not a whole number of 8-byte :" +
                                    std::string(series::dtype_name(dtype)) + " values");
    }
    return make_series(env, series::Series(dtype == series::Dtype::f64 ? copy_values<double>(binary)
                                                                       : copy_values<std::int64_t>(binary)));
}

double to_list_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    return static_cast<double>(get_series(env, argv[0]).size()) * cost::list_encode;
}

ERL_NIF_TERM to_list(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series& s = get_series(env, argv[0]);
    std::vector<ERL_NIF_TERM> terms;
    terms.reserve(s.size());
    std::visit(
        [&](auto values) {
            for (auto x : values) {
                if constexpr (std::is_same_v<decltype(x), double>) {
                    terms.push_back(encode_double(env, x));
                } else {
                    terms.push_back(enif_make_int64(env, x));
                }
            }
        },
        s.view());
    return enif_make_list_from_array(env, terms.data(), static_cast<unsigned>(terms.size()));
}

// Zero-copy: the binary points into the column and keeps its resource alive.
ERL_NIF_TERM to_binary(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    SeriesResource& resource = get_series_resource(env, argv[0]);
    const auto bytes = resource.series.bytes();
    return enif_make_resource_binary(env, &resource, bytes.data(), bytes.size());
}

ERL_NIF_TERM slice(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series& s = get_series(env, argv[0]);
    const std::size_t offset = decode_size(env, argv[1], "offset");
    const std::size_t length = decode_size(env, argv[2], "length");
    return make_series(env, s.slice(offset, length));
}

double concat_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    ERL_NIF_TERM head, tail = argv[0];
    std::size_t pieces = 0, elements = 0;
    while (enif_get_list_cell(env, tail, &head, &tail)) {
        if (++pieces > kConcatPiecesOnNormal) return kNormalSchedulerBudgetNs + 1.0;
        if (is_series(env, head)) elements += get_series(env, head).size();
    }
    return static_cast<double>(elements) * cost::copy;
}

ERL_NIF_TERM concat(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    if (!enif_is_list(env, argv[0])) {
        throw std::invalid_argument("expected a list of %Analytics.Series{}, got: " + describe(env, argv[0]));
    }
    std::vector<series::Series> pieces;
    ERL_NIF_TERM head, tail = argv[0];
    while (enif_get_list_cell(env, tail, &head, &tail)) pieces.push_back(get_series(env, head));
    if (!enif_is_empty_list(env, tail)) {
        throw std::invalid_argument("expected a proper list of %Analytics.Series{}, got an improper list");
    }
    return make_series(env, series::Series::concat(pieces));
}

double cast_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    return static_cast<double>(get_series(env, argv[0]).size()) * cost::copy;
}

ERL_NIF_TERM cast(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series& s = get_series(env, argv[0]);
    const series::Dtype target = decode_dtype(env, argv[1]);
    if (target == s.dtype()) return argv[0];
    const kernels::ColumnView view = s.view();
    if (target == series::Dtype::i64) {
        series::AlignedVector<std::int64_t> out(s.size());
        kernels::cast_to_i64(std::get<std::span<const double>>(view), out);
        return make_series(env, series::Series(std::move(out)));
    }
    series::AlignedVector<double> out(s.size());
    kernels::cast_to_f64(std::get<std::span<const std::int64_t>>(view), out);
    return make_series(env, series::Series(std::move(out)));
}

double sort_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    return static_cast<double>(get_series(env, argv[0]).size()) * cost::sorting;
}

// Analytics.Series checks its options and passes booleans.
bool decode_flag(ErlNifEnv* env, ERL_NIF_TERM term, const char* what) {
    if (enif_is_identical(term, atoms::true_)) return true;
    if (enif_is_identical(term, atoms::false_)) return false;
    throw std::invalid_argument(std::string(what) + " must be true or false, got: " + describe(env, term));
}

kernels::Direction decode_direction(ErlNifEnv* env, ERL_NIF_TERM term) {
    return decode_flag(env, term, "descending") ? kernels::Direction::descending : kernels::Direction::ascending;
}

kernels::NanPlace decode_nan_place(ErlNifEnv* env, ERL_NIF_TERM term) {
    return decode_flag(env, term, "nan_first") ? kernels::NanPlace::first : kernels::NanPlace::last;
}

ERL_NIF_TERM sort(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series& s = get_series(env, argv[0]);
    const kernels::Direction direction = decode_direction(env, argv[1]);
    const kernels::NanPlace nan = decode_nan_place(env, argv[2]);
    return std::visit(
        [&](auto values) {
            using T = typename decltype(values)::value_type;
            series::AlignedVector<T> out(values.begin(), values.end());
            kernels::sort_values(std::span<T>(out), direction, nan);
            return make_series(env, series::Series(std::move(out)));
        },
        s.view());
}

ERL_NIF_TERM argsort(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series& s = get_series(env, argv[0]);
    const kernels::Direction direction = decode_direction(env, argv[1]);
    const kernels::NanPlace nan = decode_nan_place(env, argv[2]);
    series::AlignedVector<std::int64_t> out(s.size());
    std::visit([&](auto values) { kernels::argsort(values, direction, nan, out); }, s.view());
    return make_series(env, series::Series(std::move(out)));
}

// O(log n): always on the calling scheduler.
ERL_NIF_TERM search_sorted(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const series::Series& s = get_series(env, argv[0]);
    const kernels::Side side = decode_flag(env, argv[2], "right") ? kernels::Side::right : kernels::Side::left;
    ErlNifSInt64 integer;
    const bool is_integer = enif_get_int64(env, argv[1], &integer);
    const double floating = is_integer ? 0.0 : decode_double(env, argv[1], "search_sorted's value");
    const std::size_t index = std::visit(
        [&](auto values) {
            return is_integer ? kernels::search_sorted(values, static_cast<std::int64_t>(integer), side)
                              : kernels::search_sorted(values, floating, side);
        },
        s.view());
    return enif_make_uint64(env, index);
}

}  // namespace

ERL_NIF_TERM series_from_list(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<from_list, from_list_cost>(env, argc, argv);
}

ERL_NIF_TERM series_from_binary(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<from_binary, from_binary_cost>(env, argc, argv);
}

ERL_NIF_TERM series_to_list(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<to_list, to_list_cost>(env, argc, argv);
}

ERL_NIF_TERM series_to_binary(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<to_binary>(env, argc, argv);
}

ERL_NIF_TERM series_slice(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<slice>(env, argc, argv);
}

ERL_NIF_TERM series_concat(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<concat, concat_cost>(env, argc, argv);
}

ERL_NIF_TERM series_cast(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<cast, cast_cost>(env, argc, argv);
}

ERL_NIF_TERM series_sort(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<sort, sort_cost>(env, argc, argv);
}

ERL_NIF_TERM series_argsort(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<argsort, sort_cost>(env, argc, argv);
}

ERL_NIF_TERM series_search_sorted(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<search_sorted>(env, argc, argv);
}

}  // namespace analytics::nif
