#include "sort.hpp"

#include <algorithm>
#include <cmath>
#include <compare>
#include <functional>
#include <utility>
#include <vector>

#include "exact_compare.hpp"

namespace analytics::kernels {
namespace {

bool is_nan(double x) { return std::isnan(x); }
bool is_nan(std::int64_t) { return false; }

// NaNs are moved to their end first, so the comparison sort sees numbers only
// and can use the plain, fast `<`.
template <typename T>
void sort_numbers(std::span<T> values, Direction direction) {
    if (direction == Direction::ascending) {
        const auto numbers_end = std::partition(values.begin(), values.end(), [](T x) { return !is_nan(x); });
        std::sort(values.begin(), numbers_end);
    } else {
        const auto numbers_begin = std::partition(values.begin(), values.end(), [](T x) { return is_nan(x); });
        std::sort(numbers_begin, values.end(), std::greater<T>());
    }
}

// (value, position) pairs sort in cache, where positions alone would chase
// values across memory; ties broken by position make the sort stable.
template <typename T>
void argsort_numbers(std::span<const T> values, Direction direction, std::span<std::int64_t> out) {
    std::vector<std::pair<T, std::int64_t>> nan_rows, rows;
    rows.reserve(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        (is_nan(values[i]) ? nan_rows : rows).emplace_back(values[i], static_cast<std::int64_t>(i));
    }
    if (direction == Direction::ascending) {
        std::sort(rows.begin(), rows.end());
    } else {
        std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
            return a.first > b.first || (a.first == b.first && a.second < b.second);
        });
    }
    // NaN rows are already in position order.
    const auto position = [](const std::pair<T, std::int64_t>& row) { return row.second; };
    auto it = out.begin();
    if (direction == Direction::descending) it = std::transform(nan_rows.begin(), nan_rows.end(), it, position);
    it = std::transform(rows.begin(), rows.end(), it, position);
    if (direction == Direction::ascending) std::transform(nan_rows.begin(), nan_rows.end(), it, position);
}

// NaN above everything, equal to itself: the order sort_values gives.
template <typename A, typename B>
std::weak_ordering total(A a, B b) {
    const bool a_nan = is_nan(a), b_nan = is_nan(b);
    if (a_nan || b_nan) return a_nan <=> b_nan;
    const std::partial_ordering order = exact_order(a, b);
    if (order < 0) return std::weak_ordering::less;
    return order > 0 ? std::weak_ordering::greater : std::weak_ordering::equivalent;
}

template <typename T, typename N>
std::size_t search(std::span<const T> values, N needle, Side side) {
    const auto it = side == Side::left
                        ? std::partition_point(values.begin(), values.end(), [&](T x) { return total(x, needle) < 0; })
                        : std::partition_point(values.begin(), values.end(), [&](T x) { return total(x, needle) <= 0; });
    return static_cast<std::size_t>(it - values.begin());
}

}  // namespace

void sort_values(std::span<double> values, Direction direction) { sort_numbers(values, direction); }
void sort_values(std::span<std::int64_t> values, Direction direction) { sort_numbers(values, direction); }

void argsort(std::span<const double> values, Direction direction, std::span<std::int64_t> out) {
    argsort_numbers(values, direction, out);
}
void argsort(std::span<const std::int64_t> values, Direction direction, std::span<std::int64_t> out) {
    argsort_numbers(values, direction, out);
}

std::size_t search_sorted(std::span<const double> values, double needle, Side side) {
    return search(values, needle, side);
}
std::size_t search_sorted(std::span<const double> values, std::int64_t needle, Side side) {
    return search(values, needle, side);
}
std::size_t search_sorted(std::span<const std::int64_t> values, double needle, Side side) {
    return search(values, needle, side);
}
std::size_t search_sorted(std::span<const std::int64_t> values, std::int64_t needle, Side side) {
    return search(values, needle, side);
}

}  // namespace analytics::kernels
