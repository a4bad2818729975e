// Ordering a column: sort, argsort and binary search (Series.sort/2,
// argsort/2, search_sorted/3). NaN goes first or last as asked (Explorer's
// default, above every number, is last ascending and first descending).
// -0.0 and 0.0 are equal.
#pragma once

#include <cstdint>
#include <span>

namespace analytics::kernels {

enum class Direction { ascending, descending };
enum class NanPlace { first, last };
enum class Side { left, right };

// Sorts in place, by LSD radix sort on order-preserving integer keys (equal
// values are indistinguishable but for the sign of a zero: -0.0 comes first).
void sort_values(std::span<double> values, Direction direction, NanPlace nan);
void sort_values(std::span<std::int64_t> values, Direction direction, NanPlace nan);

// The positions that sort `values`: stable, so equal values (-0.0 and 0.0
// included) keep their order.
void argsort(std::span<const double> values, Direction direction, NanPlace nan, std::span<std::int64_t> out);
void argsort(std::span<const std::int64_t> values, Direction direction, NanPlace nan, std::span<std::int64_t> out);

// Where `needle` goes in ascending `values` (NaN last) to keep them sorted:
// before every equal value (left) or after them (right). Comparisons are
// exact between integers and doubles.
std::size_t search_sorted(std::span<const double> values, double needle, Side side);
std::size_t search_sorted(std::span<const double> values, std::int64_t needle, Side side);
std::size_t search_sorted(std::span<const std::int64_t> values, double needle, Side side);
std::size_t search_sorted(std::span<const std::int64_t> values, std::int64_t needle, Side side);

}  // namespace analytics::kernels
