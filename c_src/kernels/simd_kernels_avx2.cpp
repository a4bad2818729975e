// The avx2 build of the SIMD kernels (xsimd::avx2); see simd_kernels_impl.hpp.
#define ANALYTICS_SIMD_NS avx2
#define ANALYTICS_SIMD_ARCH xsimd::avx2
#include "simd_kernels_impl.hpp"

ANALYTICS_SIMD_TABLE(avx2_table, "avx2");
