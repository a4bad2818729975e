// The avx512 build of the SIMD kernels (xsimd::avx512f); see simd_kernels_impl.hpp.
#define ANALYTICS_SIMD_NS avx512
#define ANALYTICS_SIMD_ARCH xsimd::avx512f
#include "simd_kernels_impl.hpp"

ANALYTICS_SIMD_TABLE(avx512_table, "avx512");
