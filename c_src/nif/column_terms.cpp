#include "column_terms.hpp"

#include <stdexcept>
#include <string>

#include "schedule.hpp"
#include "series_resource.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

// Far more columns than an expression can name, and a bound on the walk.
constexpr unsigned kMaxColumns = 64;

}  // namespace

series::Series decode_column(ErlNifEnv* env, ERL_NIF_TERM term) {
    if (is_series(env, term)) return get_series(env, term);
    if (enif_is_list(env, term)) return series::Series(decode_number_list(env, term, ListDtype::infer));
    throw std::invalid_argument("expected an %Analytics.Series{} or a list of numbers, got: " + describe(env, term));
}

series::Series decode_i64_column(ErlNifEnv* env, ERL_NIF_TERM term, const char* what) {
    series::Series column = decode_column(env, term);
    if (column.dtype() != series::Dtype::i64) {
        throw std::invalid_argument(std::string(what) + " must be :i64 integers, got an :f64 column");
    }
    return column;
}

double column_cost(ErlNifEnv* env, ERL_NIF_TERM term, double per_element) {
    if (is_series(env, term)) return static_cast<double>(get_series(env, term).size()) * per_element;
    return list_cost(env, term, per_element + cost::list_decode);
}

Columns decode_columns(ErlNifEnv* env, ERL_NIF_TERM list) {
    unsigned length;
    if (!enif_get_list_length(env, list, &length) || length == 0 || length > kMaxColumns) {
        throw std::invalid_argument("expected a list of 1 to " + std::to_string(kMaxColumns) +
                                    " columns, got: " + describe(env, list));
    }
    Columns columns;
    ERL_NIF_TERM head, tail = list;
    while (enif_get_list_cell(env, tail, &head, &tail)) columns.series.push_back(decode_column(env, head));
    for (const series::Series& s : columns.series) columns.views.push_back(s.view());
    return columns;
}

double columns_cost(ErlNifEnv* env, ERL_NIF_TERM list, double per_element) {
    double total = 0.0;
    unsigned length;
    if (!enif_get_list_length(env, list, &length) || length > kMaxColumns) return 0.0;  // the body raises
    ERL_NIF_TERM head, tail = list;
    while (enif_get_list_cell(env, tail, &head, &tail)) total += column_cost(env, head, per_element);
    return total;
}

}  // namespace analytics::nif
