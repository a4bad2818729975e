// Positions of values (for argmin / argmax).
#pragma once

#include <cstdint>
#include <span>

namespace analytics::kernels {

// Index of the first element equal to `value` (the first NaN when `value` is
// NaN); data.size() when there is none.
std::size_t find_first(std::span<const double> data, double value);
std::size_t find_first(std::span<const std::int64_t> data, std::int64_t value);

}  // namespace analytics::kernels
