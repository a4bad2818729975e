// Merging of partial moments (count, sum, mean, m2, extremes).
#pragma once

#include "simd_table.hpp"

namespace analytics::kernels {

// Chan et al.'s parallel update: combines the moments of two disjoint pieces
// without ever forming a large sum of squares, so variance stays accurate.
void merge_moments(F64Stats& acc, const F64Stats& piece);

// The identity of merge_moments: no values, extremes at +/-infinity.
F64Stats empty_moments();

}  // namespace analytics::kernels
