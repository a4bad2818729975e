// Exact product of 64-bit integers.
#pragma once

#include <cstdint>
#include <span>

namespace analytics::kernels {

// The exact product; throws std::invalid_argument when it leaves the signed
// 128-bit range (a float column is the tool for such magnitudes).
__int128 exact_product(std::span<const std::int64_t> data);

}  // namespace analytics::kernels
