// Downsampling a time series for a line chart `width` pixel columns wide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "column_view.hpp"

namespace analytics::kernels {

// Chosen points, in time order.
struct Points {
    std::vector<std::int64_t> times;
    std::vector<double> values;
};

// M4 (Jugel et al., "M4: A Visualization-Oriented Time Series Data
// Aggregation", VLDB 2014): [from, to] is cut into `width` equal time slices,
// one per pixel column, and each slice keeps its first, last, lowest and
// highest point (the first of equals), at most four. A line through them,
// drawn `width` pixels wide, covers the same pixels as a line through every
// point. Points outside [from, to] and NaN values are left out; `times` must
// be sorted ascending (std::invalid_argument names the first that is not).
Points m4(std::span<const std::int64_t> times, ColumnView values, std::int64_t from, std::int64_t to,
          std::size_t width);

// Largest-Triangle-Three-Buckets (Steinarsson, 2013): at most `count` points
// of [from, to] (all of them when there are no more): the first and the last
// with a value, and from each of count - 2 runs of equal length between them
// the point making the largest triangle with the point chosen before it and
// the mean of the next run (a run of NaN only gives no point). With `count`
// below 3: the last point, or the first and the last. Same rules as m4 for
// the range, NaN and the order of `times`.
Points lttb(std::span<const std::int64_t> times, ColumnView values, std::int64_t from, std::int64_t to,
            std::size_t count);

}  // namespace analytics::kernels
