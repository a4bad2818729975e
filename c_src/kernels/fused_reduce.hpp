// Map, filter and reduce in one pass (Weld's fusion): rows are filtered by a
// predicate and mapped by an expression a block at a time, and every reducer
// consumes each block while it is still in cache. No intermediate column is
// ever materialised (quantiles and n_distinct keep the selected values, as
// they need all of them).
#pragma once

#include <span>
#include <vector>

#include "column_view.hpp"
#include "expression.hpp"
#include "reduce.hpp"

namespace analytics::kernels {

struct FusedQuery {
    const Expression* map = nullptr;    // the value reduced; the only column when null
    const Expression* where = nullptr;  // rows kept; all when null
};

// Positions (argmin/argmax) are rows of the input. Without `map` the reduced
// values keep the column's dtype (i64 sums stay exact); with it they are f64.
// Throws std::invalid_argument for a map that is a predicate, a where that is
// not, columns of different lengths, or several columns and no map.
std::vector<ReduceValue> fused_reduce(std::span<const ColumnView> columns, const FusedQuery& query,
                                      std::span<const Reducer> reducers, const SimdTable& simd);

}  // namespace analytics::kernels
