// Merging of partial moments (count, sum, mean, m2, extremes).
#pragma once

#include <cstdint>
#include <span>

#include "simd_table.hpp"

namespace analytics::kernels {

// Chan et al.'s parallel update: combines the moments of two disjoint pieces
// without ever forming a large sum of squares, so variance stays accurate.
void merge_moments(F64Stats& acc, const F64Stats& piece);

// The identity of merge_moments: no values, extremes at +/-infinity.
F64Stats empty_moments();

// Merges the moments of integers into `acc`, a block of 1024 at a time through
// doubles, so the same stable SIMD moments kernel serves both dtypes. Blocks
// start at multiples of 1024 from the first value merged, so data fed in
// pieces of a multiple of 1024 values gives what one call on the whole gives.
void merge_integer_moments(F64Stats& acc, std::span<const std::int64_t> data, const SimdTable& simd);

}  // namespace analytics::kernels
