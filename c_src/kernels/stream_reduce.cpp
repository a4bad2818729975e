#include "stream_reduce.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "moments.hpp"
#include "summary.hpp"

namespace analytics::kernels {

bool StreamReduce::supports(std::span<const Reducer> reducers) {
    return std::all_of(reducers.begin(), reducers.end(), [](const Reducer& r) {
        switch (r.kind) {
            case ReducerKind::sum:
            case ReducerKind::count:
            case ReducerKind::min:
            case ReducerKind::max:
            case ReducerKind::mean:
            case ReducerKind::variance:
            case ReducerKind::standard_deviation: return true;
            default: return false;
        }
    });
}

StreamReduce::StreamReduce(std::span<const Reducer> reducers, const SimdTable& simd)
    : reducers_(reducers.begin(), reducers.end()), simd_(simd), moments_(empty_moments()) {
    const Needs needs = needs_of(reducers_);
    stats_ = needs.stats;
    m2_ = needs.m2;
    sum_ = needs.sum;
    integers_.min = std::numeric_limits<std::int64_t>::max();
    integers_.max = std::numeric_limits<std::int64_t>::min();
}

void StreamReduce::add(std::span<const double> block) {
    floats_ = true;
    count_ += block.size();
    if (stats_ || m2_) {
        // The column kernel merges 1024-value blocks one by one into its
        // running moments: do the same, never merging a merged pair.
        constexpr std::size_t kMomentsBlock = 1024;
        for (std::size_t start = 0; start < block.size(); start += kMomentsBlock) {
            const std::size_t len = std::min(kMomentsBlock, block.size() - start);
            merge_moments(moments_, simd_.stats_f64(block.data() + start, len, m2_));
        }
    } else if (sum_) {
        fold_total_ = simd_.sum_f64_resume(fold_, block.data(), block.size());
    }
}

void StreamReduce::add(std::span<const std::int64_t> block) {
    floats_ = false;
    count_ += block.size();
    if (sum_ || stats_) {
        const I64Stats piece = simd_.stats_i64(block.data(), block.size(), stats_);
        integers_.sum += piece.sum;
        integers_.min = std::min(integers_.min, piece.min);
        integers_.max = std::max(integers_.max, piece.max);
    }
    if (m2_) merge_integer_moments(moments_, block, simd_);
}

std::vector<ReduceValue> StreamReduce::finish() const {
    for (const Reducer& r : reducers_) validate(r);
    Summary s;
    s.count = count_;
    if (floats_.value_or(false)) {
        // As summarise() on a column of doubles.
        double sum = fold_total_;
        if (stats_ || m2_) {
            sum = moments_.sum;
            const double nan = std::numeric_limits<double>::quiet_NaN();
            s.min = moments_.has_nan ? nan : moments_.min;
            s.max = moments_.has_nan ? nan : moments_.max;
        }
        s.sum = sum;
        s.mean = sum / static_cast<double>(count_);
    } else {
        s.sum = integers_.sum;
        if (sum_ || stats_) s.mean = static_cast<double>(integers_.sum) / static_cast<double>(count_);
        s.min = integers_.min;
        s.max = integers_.max;
    }
    s.m2 = moments_.m2;
    return emit(s, reducers_);
}

}  // namespace analytics::kernels
