// Element-wise conversion between :f64 and :i64 columns.
#pragma once

#include <cstdint>
#include <span>

namespace analytics::kernels {

// Truncates toward zero, like a C++ or Elixir `trunc`. Throws
// std::invalid_argument naming the first element that has no i64 value
// (NaN, an infinity, or outside [-2^63, 2^63)); `out` is then unspecified.
void cast_to_i64(std::span<const double> values, std::span<std::int64_t> out);

// Rounds to the nearest double; exact up to 2^53 in magnitude.
void cast_to_f64(std::span<const std::int64_t> values, std::span<double> out);

}  // namespace analytics::kernels
