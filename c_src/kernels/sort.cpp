#include "sort.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <compare>
#include <type_traits>
#include <utility>
#include <vector>

#include "exact_compare.hpp"

namespace analytics::kernels {
namespace {

bool is_nan(double x) { return std::isnan(x); }
bool is_nan(std::int64_t) { return false; }

constexpr std::uint64_t kSign = std::uint64_t{1} << 63;

// Unsigned keys in the values' order: a double's bits with the sign flipped
// (all bits for negatives), an integer's with the sign bit flipped.
std::uint64_t order_key(double x) {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    return bits & kSign ? ~bits : bits | kSign;
}
std::uint64_t order_key(std::int64_t x) { return std::bit_cast<std::uint64_t>(x) ^ kSign; }

template <typename T>
T from_order_key(std::uint64_t key) {
    if constexpr (std::is_same_v<T, double>) {
        return std::bit_cast<double>(key & kSign ? key & ~kSign : ~key);
    } else {
        return std::bit_cast<std::int64_t>(key ^ kSign);
    }
}

// LSD radix sort a byte at a time: stable and O(n) per pass; all eight
// histograms come from one read, and a pass whose byte is the same in every
// key (small integers, doubles of one sign and magnitude) is skipped.
template <typename Item, typename Key>
void radix_sort(std::vector<Item>& items, Key key) {
    constexpr int kPasses = 8;
    std::vector<std::array<std::size_t, 256>> counts(kPasses);
    for (const Item& item : items) {
        const std::uint64_t k = key(item);
        for (int p = 0; p < kPasses; ++p) ++counts[p][(k >> (8 * p)) & 0xFF];
    }
    std::vector<Item> buffer(items.size());
    for (int p = 0; p < kPasses; ++p) {
        auto& count = counts[p];
        if (std::find(count.begin(), count.end(), items.size()) != count.end()) continue;
        std::size_t offset = 0;
        for (std::size_t& c : count) offset += std::exchange(c, offset);
        for (const Item& item : items) buffer[count[(key(item) >> (8 * p)) & 0xFF]++] = item;
        items.swap(buffer);
    }
}

// NaNs go to their end first, so the radix keys are numbers only.
template <typename T>
void sort_numbers(std::span<T> values, Direction direction, NanPlace nan) {
    const bool ascending = direction == Direction::ascending;
    const bool nan_first = nan == NanPlace::first;
    const auto split = std::partition(values.begin(), values.end(), [&](T x) { return is_nan(x) == nan_first; });
    const std::span<T> numbers = nan_first ? std::span<T>(split, values.end()) : std::span<T>(values.begin(), split);
    std::vector<std::uint64_t> keys(numbers.size());
    std::transform(numbers.begin(), numbers.end(), keys.begin(), [](T x) { return order_key(x); });
    radix_sort(keys, [](std::uint64_t k) { return k; });
    const auto value = [](std::uint64_t k) { return from_order_key<T>(k); };
    if (ascending) {
        std::transform(keys.begin(), keys.end(), numbers.begin(), value);
    } else {
        std::transform(keys.rbegin(), keys.rend(), numbers.begin(), value);
    }
}

// (key, position) pairs sort in cache, where positions alone would chase
// values across memory. The radix sort is stable, so equal values keep their
// order; descending sorts the complemented keys, which keeps ties in order
// too. -0.0 and 0.0 share a key, as they are equal.
template <typename T>
void argsort_numbers(std::span<const T> values, Direction direction, NanPlace nan, std::span<std::int64_t> out) {
    const std::uint64_t flip = direction == Direction::descending ? ~std::uint64_t{0} : 0;
    std::vector<std::int64_t> nan_rows;
    std::vector<std::pair<std::uint64_t, std::int64_t>> rows;
    rows.reserve(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        const auto position = static_cast<std::int64_t>(i);
        if (is_nan(values[i])) {
            nan_rows.push_back(position);
        } else {
            rows.emplace_back(order_key(values[i] == T{0} ? T{0} : values[i]) ^ flip, position);
        }
    }
    radix_sort(rows, [](const auto& row) { return row.first; });
    // NaN rows are already in position order.
    auto it = out.begin();
    if (nan == NanPlace::first) it = std::copy(nan_rows.begin(), nan_rows.end(), it);
    it = std::transform(rows.begin(), rows.end(), it, [](const auto& row) { return row.second; });
    if (nan == NanPlace::last) std::copy(nan_rows.begin(), nan_rows.end(), it);
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

void sort_values(std::span<double> values, Direction direction, NanPlace nan) {
    sort_numbers(values, direction, nan);
}
void sort_values(std::span<std::int64_t> values, Direction direction, NanPlace nan) {
    sort_numbers(values, direction, nan);
}

void argsort(std::span<const double> values, Direction direction, NanPlace nan, std::span<std::int64_t> out) {
    argsort_numbers(values, direction, nan, out);
}
void argsort(std::span<const std::int64_t> values, Direction direction, NanPlace nan, std::span<std::int64_t> out) {
    argsort_numbers(values, direction, nan, out);
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
