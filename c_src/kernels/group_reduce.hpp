// Grouped reductions by hash aggregation: one pass assigns each row its
// group's slot in an open-addressing table over i64 keys, and streaming
// accumulators per group take the row; order statistics (quantiles,
// n_distinct) gather each group's values afterwards. Output is sorted by key.
#pragma once

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "column_view.hpp"
#include "reduce.hpp"

namespace analytics::kernels {

using GroupColumn = std::variant<std::vector<double>, std::vector<std::int64_t>>;

struct GroupResult {
    std::vector<std::int64_t> keys;    // each key that occurs, ascending
    std::vector<GroupColumn> columns;  // one per reducer, rows as `keys`
};

// Column dtypes follow reduce(): i64 values give i64 sums, extremes and
// products; means, spreads and quantiles are f64; counts and positions i64.
// A value a group cannot have (variance of one value) is NaN. Throws
// std::invalid_argument when keys and values differ in length, for an
// approximate reducer, or when an i64 sum or product of a group leaves 64 bits.
GroupResult group_reduce(std::span<const std::int64_t> keys, const ColumnView& values,
                         std::span<const Reducer> reducers);

// floor(t / width) * width for each timestamp: the start of its bucket.
// Throws std::invalid_argument for a width below 1.
std::vector<std::int64_t> bucket_starts(std::span<const std::int64_t> timestamps, std::int64_t width);

}  // namespace analytics::kernels
