// The per-ISA kernel table. Each ISA translation unit (simd_kernels_<isa>.cpp)
// defines one table; dispatch.cpp picks the best one the CPU (and the
// ANALYTICS_SIMD cap) allows. This header holds no SIMD code, so it is safe to
// share across units compiled with different -m flags.
#pragma once

#include <cstddef>
#include <cstdint>

namespace analytics::kernels {

// Moments of a block of doubles. `m2` is the sum of squared deviations from
// `mean`; it is only filled when asked for, as it costs a second pass over
// each (cache-resident) block.
struct F64Stats {
    std::size_t count = 0;
    double sum = 0.0;
    double mean = 0.0;
    double m2 = 0.0;
    double min = 0.0;
    double max = 0.0;
    bool has_nan = false;
};

// Exact sum of 64-bit integers (no wrap-around) plus, when asked, extremes.
struct I64Stats {
    std::size_t count = 0;
    __int128 sum = 0;
    std::int64_t min = 0;
    std::int64_t max = 0;
};

// The vector accumulators of a sum carried from one call to the next: a sum
// fed in blocks of a multiple of kFoldBlock values, ending with any length, is
// bit for bit the sum of the whole (a list summed block by block gives what
// its column gives). Zeros start a sum.
inline constexpr std::size_t kFoldBlock = 32;  // 4 accumulators of the widest ISA's 8 lanes
struct alignas(64) FoldState {
    double lanes[kFoldBlock] = {};
};

struct SimdTable {
    const char* name;
    double (*sum_f64)(const double* data, std::size_t n);
    // Continues `state`; returns the sum so far including this block's tail.
    double (*sum_f64_resume)(FoldState& state, const double* data, std::size_t n);
    double (*product_f64)(const double* data, std::size_t n);
    F64Stats (*stats_f64)(const double* data, std::size_t n, bool with_m2);
    I64Stats (*stats_i64)(const std::int64_t* data, std::size_t n, bool with_extremes);
};

// Defined in the ISA units; only the ones CMake builds for this target exist.
extern const SimdTable baseline_table;
extern const SimdTable avx2_table;
extern const SimdTable avx512_table;

}  // namespace analytics::kernels
