// Reductions fed one block at a time, for inputs that never become a column
// (a plain list read into a small reused buffer). The blocks are cut where the
// column kernels cut theirs, so the values are exactly reduce/3's on the
// whole column, bit for bit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "reduce.hpp"
#include "simd_table.hpp"

namespace analytics::kernels {

class StreamReduce {
public:
    // Every block but the last holds exactly this many values: a multiple of
    // the moments kernels' 1024-value blocks and of kFoldBlock.
    static constexpr std::size_t kBlock = 2048;

    // Whether every reducer can be computed from blocks: sum, count, min, max,
    // mean, variance, standard_deviation.
    static bool supports(std::span<const Reducer> reducers);

    StreamReduce(std::span<const Reducer> reducers, const SimdTable& simd);

    // One dtype per reduction: feed either doubles or integers, never both.
    void add(std::span<const double> block);
    void add(std::span<const std::int64_t> block);

    // One value per reducer, in the reducers' order; an empty stream of
    // unknown dtype answers as an empty :i64 column. Throws
    // std::invalid_argument for a parameter out of range, as reduce/3 does
    // after reading its input (whose errors come first).
    std::vector<ReduceValue> finish() const;

private:
    std::vector<Reducer> reducers_;
    const SimdTable& simd_;
    bool stats_ = false;  // min/max/NaN (and sum) from the moments kernel
    bool m2_ = false;
    bool sum_ = false;
    std::optional<bool> floats_;  // the dtype, once a block came
    std::size_t count_ = 0;
    F64Stats moments_;     // f64 with stats or m2; i64 m2
    FoldState fold_;       // f64 sum alone
    double fold_total_ = 0.0;
    I64Stats integers_;    // i64 sum and extremes
};

}  // namespace analytics::kernels
