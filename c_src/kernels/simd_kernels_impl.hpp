// SIMD kernel bodies, compiled once per ISA. Include this only from a
// simd_kernels_<isa>.cpp unit after defining ANALYTICS_SIMD_NS (a namespace
// name) and ANALYTICS_SIMD_ARCH (an xsimd arch type). Everything here lives in
// that ISA's namespace and every xsimd batch names its arch explicitly, so no
// inline function compiled with wider -m flags can be picked by the linker for
// another unit.
#pragma once

#include <xsimd/xsimd.hpp>

#include <cstring>
#include <limits>

#include "moments.hpp"
#include "simd_table.hpp"

namespace analytics::kernels::ANALYTICS_SIMD_NS {
namespace {

using Arch = ANALYTICS_SIMD_ARCH;
using DoubleBatch = xsimd::batch<double, Arch>;
using U64Batch = xsimd::batch<std::uint64_t, Arch>;
using I64Batch = xsimd::batch<std::int64_t, Arch>;
constexpr std::size_t kLanes = DoubleBatch::size;

// Four independent accumulators hide the add latency (4 cycles) behind the
// 1-per-cycle throughput of the vector unit.
constexpr std::size_t kUnroll = 4;

// Blocks small enough to stay in L1 between the two passes of the m2 kernel.
constexpr std::size_t kBlock = 1024;

// Byte-wise loads: callers may hand us any address (slices of packed binaries),
// and a misaligned typed dereference is undefined behaviour.
template <typename T>
inline T load_scalar(const T* p) {
    T value;
    std::memcpy(&value, p, sizeof(T));
    return value;
}

// Folds `data` with an associative `op` (+ or *) over kUnroll independent
// vector accumulators kept in `state`, then the lanes, then the scalar tail.
// Only the unrolled loop writes `state` back, so a block whose length is a
// multiple of kUnroll * kLanes leaves it exactly where one long call would.
template <typename Op>
double fold_f64(FoldState& state, const double* data, std::size_t n, double identity, Op op) {
    static_assert(kUnroll * kLanes <= kFoldBlock && kFoldBlock % (kUnroll * kLanes) == 0);
    DoubleBatch acc[kUnroll];
    for (std::size_t u = 0; u < kUnroll; ++u) acc[u] = DoubleBatch::load_aligned(state.lanes + u * kLanes);
    std::size_t i = 0;
    for (; i + kUnroll * kLanes <= n; i += kUnroll * kLanes) {
        for (std::size_t u = 0; u < kUnroll; ++u) {
            acc[u] = op(acc[u], DoubleBatch::load_unaligned(data + i + u * kLanes));
        }
    }
    for (std::size_t u = 0; u < kUnroll; ++u) acc[u].store_aligned(state.lanes + u * kLanes);
    for (; i + kLanes <= n; i += kLanes) {
        acc[0] = op(acc[0], DoubleBatch::load_unaligned(data + i));
    }
    alignas(64) double lanes[kLanes];
    op(op(acc[0], acc[1]), op(acc[2], acc[3])).store_aligned(lanes);
    double total = identity;
    for (double lane : lanes) total = op(total, lane);
    for (; i < n; ++i) total = op(total, load_scalar(data + i));
    return total;
}

double sum_f64_resume(FoldState& state, const double* data, std::size_t n) {
    return fold_f64(state, data, n, 0.0, [](auto a, auto b) { return a + b; });
}

double sum_f64(const double* data, std::size_t n) {
    FoldState state;
    return sum_f64_resume(state, data, n);
}

double product_f64(const double* data, std::size_t n) {
    FoldState state;
    for (double& lane : state.lanes) lane = 1.0;
    return fold_f64(state, data, n, 1.0, [](auto a, auto b) { return a * b; });
}

// Sum, extremes and NaN flag of one block; min/max ignore NaN (tracked apart,
// because x86 min/max drop a NaN operand depending on its position). NaN is
// found with isnan: xsimd 8.1's AVX `!=` is an ordered compare, false for NaN.
F64Stats block_stats(const double* data, std::size_t n) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    DoubleBatch sum0(0.0), sum1(0.0);
    DoubleBatch lo(inf), hi(-inf);
    auto nan_seen = xsimd::isnan(DoubleBatch(0.0));
    std::size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        const auto a = DoubleBatch::load_unaligned(data + i);
        const auto b = DoubleBatch::load_unaligned(data + i + kLanes);
        sum0 += a;
        sum1 += b;
        nan_seen = nan_seen | xsimd::isnan(a) | xsimd::isnan(b);
        lo = xsimd::min(lo, xsimd::min(a, b));
        hi = xsimd::max(hi, xsimd::max(a, b));
    }
    F64Stats s;
    s.count = n;
    s.sum = xsimd::hadd(sum0 + sum1);
    s.has_nan = xsimd::any(nan_seen);
    alignas(64) double lanes[kLanes];
    lo.store_aligned(lanes);
    s.min = inf;
    for (double lane : lanes) s.min = lane < s.min ? lane : s.min;
    hi.store_aligned(lanes);
    s.max = -inf;
    for (double lane : lanes) s.max = lane > s.max ? lane : s.max;
    for (; i < n; ++i) {
        const double x = load_scalar(data + i);
        s.sum += x;
        if (x != x) {
            s.has_nan = true;
        } else {
            s.min = x < s.min ? x : s.min;
            s.max = x > s.max ? x : s.max;
        }
    }
    s.mean = n ? s.sum / static_cast<double>(n) : 0.0;
    return s;
}

double block_m2(const double* data, std::size_t n, double mean) {
    const DoubleBatch m(mean);
    DoubleBatch acc0(0.0), acc1(0.0);
    std::size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        const auto a = DoubleBatch::load_unaligned(data + i) - m;
        const auto b = DoubleBatch::load_unaligned(data + i + kLanes) - m;
        acc0 += a * a;
        acc1 += b * b;
    }
    double total = xsimd::hadd(acc0 + acc1);
    for (; i < n; ++i) {
        const double d = load_scalar(data + i) - mean;
        total += d * d;
    }
    return total;
}

F64Stats stats_f64(const double* data, std::size_t n, bool with_m2) {
    F64Stats acc = empty_moments();
    for (std::size_t start = 0; start < n; start += kBlock) {
        const std::size_t len = n - start < kBlock ? n - start : kBlock;
        F64Stats block = block_stats(data + start, len);
        if (with_m2) block.m2 = block_m2(data + start, len, block.mean);
        merge_moments(acc, block);
    }
    return acc;
}

// Exact i64 sum without 128-bit vector adds: bias each value to unsigned
// (x + 2^63), split into 32-bit halves and add the halves in 64-bit lanes.
// A lane may take 2^31 - 1 halves before it could overflow, so the lanes are
// flushed into a 128-bit total every kFlush elements. Extremes use signed
// compare-and-select: AVX2 has a signed 64-bit compare but no 64-bit min/max.
template <bool Extremes>
I64Stats stats_i64_as(const std::int64_t* data, std::size_t n) {
    constexpr std::size_t kFlush = std::size_t{1} << 30;
    constexpr std::uint64_t kBias = std::uint64_t{1} << 63;
    const U64Batch bias(kBias), low_mask(0xffffffffULL);
    I64Stats s;
    s.count = n;
    s.min = std::numeric_limits<std::int64_t>::max();
    s.max = std::numeric_limits<std::int64_t>::min();
    I64Batch lo_ext(s.min), hi_ext(s.max);
    unsigned __int128 biased_total = 0;
    std::size_t i = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(data);
    while (i + kLanes <= n) {
        const std::size_t chunk_end = (n - i > kFlush ? i + kFlush : n);
        U64Batch lo_sum(std::uint64_t{0}), hi_sum(std::uint64_t{0});
        for (; i + kLanes <= chunk_end; i += kLanes) {
            const auto* at = bytes + i * 8;
            const auto x = U64Batch::load_unaligned(reinterpret_cast<const std::uint64_t*>(at)) ^ bias;
            lo_sum += x & low_mask;
            hi_sum += x >> 32;
            if constexpr (Extremes) {
                const auto v = I64Batch::load_unaligned(reinterpret_cast<const std::int64_t*>(at));
                lo_ext = xsimd::select(v < lo_ext, v, lo_ext);
                hi_ext = xsimd::select(hi_ext < v, v, hi_ext);
            }
        }
        alignas(64) std::uint64_t lanes[kLanes];
        lo_sum.store_aligned(lanes);
        for (auto lane : lanes) biased_total += lane;
        hi_sum.store_aligned(lanes);
        for (auto lane : lanes) biased_total += static_cast<unsigned __int128>(lane) << 32;
    }
    if constexpr (Extremes) {
        alignas(64) std::int64_t lanes[kLanes];
        lo_ext.store_aligned(lanes);
        for (auto lane : lanes) s.min = lane < s.min ? lane : s.min;
        hi_ext.store_aligned(lanes);
        for (auto lane : lanes) s.max = lane > s.max ? lane : s.max;
    }
    for (; i < n; ++i) {
        const std::int64_t x = load_scalar(data + i);
        biased_total += static_cast<std::uint64_t>(x) ^ kBias;
        s.min = x < s.min ? x : s.min;
        s.max = x > s.max ? x : s.max;
    }
    s.sum = static_cast<__int128>(biased_total) - static_cast<__int128>(n) * static_cast<__int128>(kBias);
    return s;
}

I64Stats stats_i64(const std::int64_t* data, std::size_t n, bool with_extremes) {
    return with_extremes ? stats_i64_as<true>(data, n) : stats_i64_as<false>(data, n);
}

}  // namespace
}  // namespace analytics::kernels::ANALYTICS_SIMD_NS

#define ANALYTICS_SIMD_TABLE(table_name, label)                                                   \
    const analytics::kernels::SimdTable analytics::kernels::table_name = {                        \
        label,                                                                                    \
        &analytics::kernels::ANALYTICS_SIMD_NS::sum_f64,                                          \
        &analytics::kernels::ANALYTICS_SIMD_NS::sum_f64_resume,                                   \
        &analytics::kernels::ANALYTICS_SIMD_NS::product_f64,                                      \
        &analytics::kernels::ANALYTICS_SIMD_NS::stats_f64,                                        \
        &analytics::kernels::ANALYTICS_SIMD_NS::stats_i64,                                        \
    }
