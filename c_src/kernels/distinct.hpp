// Counting distinct values by hashing (expected O(n)).
#pragma once

#include <cstdint>
#include <span>

namespace analytics::kernels {

// Equal values count once: -0.0 equals 0.0, and every NaN counts as one value.
std::size_t n_distinct(std::span<const double> data);
std::size_t n_distinct(std::span<const std::int64_t> data);

}  // namespace analytics::kernels
