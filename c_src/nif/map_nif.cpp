#include "map_nif.hpp"

#include <vector>

#include "../kernels/expression.hpp"
#include "../kernels/take.hpp"
#include "column_terms.hpp"
#include "expression_terms.hpp"
#include "schedule.hpp"
#include "series_resource.hpp"

namespace analytics::nif {
namespace {

double expression_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const double nodes = static_cast<double>(expression_size(env, argv[1]));
    return columns_cost(env, argv[0], nodes * cost::expression_node + cost::copy);
}

template <typename T>
series::Series evaluated(kernels::BlockEvaluator& evaluator, std::size_t rows) {
    series::AlignedVector<T> out(rows);
    kernels::evaluate_into(evaluator, std::span<T>(out));
    return series::Series(std::move(out));
}

ERL_NIF_TERM map_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const Columns columns = decode_columns(env, argv[0]);
    const kernels::Expression expression = decode_expression(env, argv[1], columns.views.size());
    if (expression.is_predicate()) {
        throw std::invalid_argument("map needs an expression that computes a number, got a predicate");
    }
    kernels::BlockEvaluator evaluator(expression, columns.views);
    const std::size_t rows = kernels::common_length(columns.views);
    return make_series(env, evaluator.result_type() == kernels::ValueType::i64 ? evaluated<std::int64_t>(evaluator, rows)
                                                                               : evaluated<double>(evaluator, rows));
}

// Every column's rows where the predicate holds, as new series in the
// columns' order.
ERL_NIF_TERM filter_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const Columns columns = decode_columns(env, argv[0]);
    const kernels::Expression predicate = decode_expression(env, argv[1], columns.views.size());
    const std::vector<std::size_t> rows = kernels::selected_rows(predicate, columns.views);
    std::vector<ERL_NIF_TERM> out;
    for (const kernels::ColumnView& view : columns.views) {
        out.push_back(std::visit(
            [&](auto values) {
                using T = typename decltype(values)::value_type;
                series::AlignedVector<std::remove_const_t<T>> kept(rows.size());
                kernels::take<std::remove_const_t<T>>(values, rows, kept);
                return make_series(env, series::Series(std::move(kept)));
            },
            view));
    }
    return enif_make_list_from_array(env, out.data(), static_cast<unsigned>(out.size()));
}

}  // namespace

ERL_NIF_TERM map(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<map_body, expression_cost>(env, argc, argv);
}

ERL_NIF_TERM filter(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<filter_body, expression_cost>(env, argc, argv);
}

}  // namespace analytics::nif
