// Run-time choice of the SIMD kernel table.
#pragma once

#include <span>
#include <string_view>

#include "simd_table.hpp"

namespace analytics::kernels {

// The table in use: the widest ISA the CPU supports, capped by the
// ANALYTICS_SIMD environment variable (baseline | avx2 | avx512) read once.
const SimdTable& active_simd();

// Every table this CPU can run, narrowest first (tests run them all).
std::span<const SimdTable* const> supported_simd();

// Parses an ANALYTICS_SIMD value; throws std::invalid_argument on a bad one.
const SimdTable& simd_for_cap(std::string_view cap);

}  // namespace analytics::kernels
