#include "map_nif.hpp"

#include "../kernels/expression.hpp"
#include "column_terms.hpp"
#include "expression_terms.hpp"
#include "schedule.hpp"
#include "series_resource.hpp"

namespace analytics::nif {
namespace {

double map_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const double nodes = static_cast<double>(expression_size(env, argv[1]));
    return columns_cost(env, argv[0], nodes * cost::expression_node + cost::copy);
}

ERL_NIF_TERM map_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const Columns columns = decode_columns(env, argv[0]);
    const kernels::Expression expression = decode_expression(env, argv[1], columns.views.size());
    if (expression.is_predicate()) {
        throw std::invalid_argument("map needs an expression that computes a number, got a predicate");
    }
    series::AlignedVector<double> out(kernels::common_length(columns.views));
    kernels::evaluate_into(expression, columns.views, out);
    return make_series(env, series::Series(std::move(out)));
}

}  // namespace

ERL_NIF_TERM map(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<map_body, map_cost>(env, argc, argv);
}

}  // namespace analytics::nif
