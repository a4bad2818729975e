// Reductions of one column: any set of reducers, computed with as few passes
// over the data as the set allows.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "column_view.hpp"
#include "simd_table.hpp"

namespace analytics::kernels {

enum class ReducerKind {
    sum,
    count,
    min,
    max,
    mean,
    variance,
    standard_deviation,
    product,
    argmin,
    argmax,
    quantile,
    n_distinct,
    approx_n_distinct,  // HyperLogLog estimate
    approx_quantile,    // DDSketch estimate
    hll_state,          // the encoded HyperLogLog, for mergeable states
    dd_state,           // the encoded DDSketch, for mergeable states
};

struct Reducer {
    ReducerKind kind;
    // ddof for variance and standard_deviation, q for the quantiles; unused otherwise.
    double parameter = 0.0;
};

// nil, a float, a count or position, an exact integer, or an encoded sketch.
using ReduceValue = std::variant<std::monostate, double, std::int64_t, __int128, std::string>;

// One value per reducer, in the reducers' order. Throws std::invalid_argument
// for a reducer parameter out of range or an i64 product beyond 128 bits.
std::vector<ReduceValue> reduce(const ColumnView& column, std::span<const Reducer> reducers, const SimdTable& simd);

}  // namespace analytics::kernels
