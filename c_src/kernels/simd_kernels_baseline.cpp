// The baseline build of the SIMD kernels (xsimd::sse2); see simd_kernels_impl.hpp.
#define ANALYTICS_SIMD_NS baseline
#define ANALYTICS_SIMD_ARCH xsimd::sse2
#include "simd_kernels_impl.hpp"

ANALYTICS_SIMD_TABLE(baseline_table, "baseline");
