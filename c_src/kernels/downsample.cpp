#include "downsample.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace analytics::kernels {
namespace {

void check_sorted(std::span<const std::int64_t> times) {
    const auto unsorted = std::is_sorted_until(times.begin(), times.end());
    if (unsorted != times.end()) {
        throw std::invalid_argument("times must be sorted ascending; index " +
                                    std::to_string(unsorted - times.begin()) + " is earlier than the one before it");
    }
}

void check_lengths(std::span<const std::int64_t> times, ColumnView values) {
    const std::size_t n = std::visit([](auto column) { return column.size(); }, values);
    if (n != times.size()) {
        throw std::invalid_argument("times and values must be equally long, got " + std::to_string(times.size()) +
                                    " times and " + std::to_string(n) + " values");
    }
}

void check_range(std::int64_t from, std::int64_t to) {
    if (from > to) {
        throw std::invalid_argument("the range must have from <= to, got from " + std::to_string(from) + " and to " +
                                    std::to_string(to));
    }
}

// The run of `times` inside [from, to], as indices.
std::pair<std::size_t, std::size_t> in_range(std::span<const std::int64_t> times, std::int64_t from, std::int64_t to) {
    const auto first = std::lower_bound(times.begin(), times.end(), from);
    const auto last = std::upper_bound(first, times.end(), to);
    return {static_cast<std::size_t>(first - times.begin()), static_cast<std::size_t>(last - times.begin())};
}

// Slice `floor((t - from) * width / (to - from + 1))` of `width` equal
// slices of [from, to], and the last time in a slice, in 128 bits
// (nanosecond spans times a width overflow 64).
struct Slicing {
    std::int64_t from;
    __int128 span;
    __int128 width;

    std::size_t slice_of(std::int64_t t) const {
        return static_cast<std::size_t>((static_cast<__int128>(t) - from) * width / span);
    }

    // The last time of slice s: from + ceil((s + 1) * span / width) - 1.
    std::int64_t last_of(std::size_t s) const {
        return static_cast<std::int64_t>(from + ((static_cast<__int128>(s) + 1) * span + width - 1) / width - 1);
    }
};

// The points at `chosen` (ascending indices).
template <typename T>
Points gather(std::span<const std::int64_t> times, std::span<const T> values, const std::vector<std::size_t>& chosen) {
    Points out;
    out.times.reserve(chosen.size());
    out.values.reserve(chosen.size());
    for (std::size_t k : chosen) {
        out.times.push_back(times[k]);
        out.values.push_back(static_cast<double>(values[k]));
    }
    return out;
}

template <typename T>
Points m4_of(std::span<const std::int64_t> times, std::span<const T> values, std::int64_t from, std::int64_t to,
             std::size_t width) {
    auto [i, end] = in_range(times, from, to);
    const Slicing slicing{from, static_cast<__int128>(to) - from + 1, static_cast<__int128>(width)};
    std::vector<std::size_t> chosen;
    chosen.reserve(std::min(4 * width, end - i));
    while (i < end) {
        // One division and one binary search per slice with points, none per
        // point; the scan keeps the extremes in registers.
        const std::int64_t last_time = slicing.last_of(slicing.slice_of(times[i]));
        const auto stop = static_cast<std::size_t>(
            std::upper_bound(times.begin() + static_cast<std::ptrdiff_t>(i), times.begin() + static_cast<std::ptrdiff_t>(end),
                             last_time) -
            times.begin());
        std::size_t first = i;
        while (first < stop && std::isnan(static_cast<double>(values[first]))) ++first;
        i = stop;
        if (first == stop) continue;
        std::size_t last = stop - 1;
        while (std::isnan(static_cast<double>(values[last]))) --last;
        std::size_t low = first, high = first;
        double low_value = static_cast<double>(values[first]), high_value = low_value;
        // NaN compares false, so it is never an extreme.
        for (std::size_t k = first + 1; k <= last; ++k) {
            const auto v = static_cast<double>(values[k]);
            if (v < low_value) low_value = v, low = k;
            if (v > high_value) high_value = v, high = k;
        }
        std::size_t picks[] = {first, low, high, last};
        std::sort(std::begin(picks), std::end(picks));
        for (std::size_t k = 0; k < 4; ++k) {
            if (k == 0 || picks[k] != picks[k - 1]) chosen.push_back(picks[k]);
        }
    }
    return gather(times, values, chosen);
}

template <typename T>
Points lttb_of(std::span<const std::int64_t> times, std::span<const T> values, std::int64_t from, std::int64_t to,
               std::size_t count) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const auto range = in_range(times, from, to);
    std::size_t first = range.first;
    const std::size_t end = range.second;
    auto has_value = [&](std::size_t i) { return !std::isnan(static_cast<double>(values[i])); };
    while (first < end && !has_value(first)) ++first;
    if (first == end) return {};
    std::size_t last = end - 1;
    while (!has_value(last)) --last;
    std::vector<std::size_t> chosen;
    const auto n = static_cast<std::size_t>(
        std::count_if(values.begin() + static_cast<std::ptrdiff_t>(first),
                      values.begin() + static_cast<std::ptrdiff_t>(last + 1), [](T v) { return !std::isnan(static_cast<double>(v)); }));
    if (n <= count) {
        for (std::size_t i = first; i <= last; ++i) {
            if (has_value(i)) chosen.push_back(i);
        }
        return gather(times, values, chosen);
    }
    if (count < 3) {
        // No room between the ends.
        if (count == 2) chosen.push_back(first);
        chosen.push_back(last);
        return gather(times, values, chosen);
    }
    // Read in place, with no copy: first touch of fresh memory costs more
    // than the whole pass. Times relative to the first point keep nanosecond
    // timestamps exact enough in a double.
    auto x = [&](std::size_t i) { return static_cast<double>(times[i] - times[first]); };
    auto y = [&](std::size_t i) { return static_cast<double>(values[i]); };
    // count - 2 runs of equal length over the indices between the ends.
    const std::size_t inner = last - first - 1;
    auto run_start = [&](std::size_t r) { return first + 1 + (inner * r) / (count - 2); };
    chosen.reserve(count);
    chosen.push_back(first);
    std::size_t previous = first;
    for (std::size_t r = 0; r < count - 2; ++r) {
        const std::size_t start = run_start(r), stop = run_start(r + 1);
        const std::size_t next_stop = r + 1 < count - 2 ? run_start(r + 2) : last + 1;
        // The mean of the next run's values (the last point's, if it has none).
        double mean_x = 0, mean_y = 0, seen = 0;
        for (std::size_t i = stop; i < next_stop; ++i) {
            if (has_value(i)) mean_x += x(i), mean_y += y(i), seen += 1;
        }
        if (seen == 0) {
            mean_x = x(last), mean_y = y(last);
        } else {
            mean_x /= seen, mean_y /= seen;
        }
        std::size_t best = end;
        double best_area = -1;
        for (std::size_t i = start; i < stop; ++i) {
            // Twice the triangle's area; NaN compares false and is never best.
            const double area =
                std::abs((x(previous) - mean_x) * (y(i) - y(previous)) - (x(previous) - x(i)) * (mean_y - y(previous)));
            if (area > best_area) best_area = area, best = i;
        }
        if (best == end) continue;  // a run of NaN only
        chosen.push_back(best);
        previous = best;
    }
    chosen.push_back(last);
    return gather(times, values, chosen);
}

}  // namespace

namespace {

// The checks both methods make, then the method on the values' dtype.
template <typename Method>
Points downsample(std::span<const std::int64_t> times, ColumnView values, std::int64_t from, std::int64_t to,
                  std::size_t width, Method method) {
    check_lengths(times, values);
    check_range(from, to);
    check_sorted(times);
    if (width == 0) throw std::invalid_argument("width must be a positive integer, got: 0");
    return std::visit([&](auto column) { return method(times, column, from, to, width); }, values);
}

}  // namespace

Points m4(std::span<const std::int64_t> times, ColumnView values, std::int64_t from, std::int64_t to,
          std::size_t width) {
    return downsample(times, values, from, to, width, [](auto... args) { return m4_of(args...); });
}

Points lttb(std::span<const std::int64_t> times, ColumnView values, std::int64_t from, std::int64_t to,
            std::size_t count) {
    return downsample(times, values, from, to, count, [](auto... args) { return lttb_of(args...); });
}

}  // namespace analytics::kernels
