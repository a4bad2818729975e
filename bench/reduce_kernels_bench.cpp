// Kernel throughput against plain C++ loops over the same data, in one run.
//
//   reference "scalar": the loop anyone would write (no -ffast-math, so the
//                       compiler keeps it sequential);
//   reference "avx2":   a hand-written AVX2 loop with four accumulators, the
//                       practical memory-bandwidth limit.
//
// Prints the median of several timed runs per size; ratios > 1 mean the
// kernel is faster. Build: cmake --build _build/cmake-tests --target reduce_kernels_bench
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../c_src/kernels/dispatch.hpp"
#include "../c_src/kernels/reduce.hpp"
#include "../c_src/series/aligned_allocator.hpp"
#include "timing.hpp"

namespace {

using analytics::kernels::active_simd;
using analytics::bench::median_seconds;
template <typename T>
using Column = std::vector<T, analytics::series::AlignedAllocator<T>>;

volatile double sink_double;
volatile std::int64_t sink_int;

double scalar_sum(const double* p, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += p[i];
    return s;
}

__attribute__((target("avx2"))) double avx2_sum(const double* p, std::size_t n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_pd(a0, _mm256_loadu_pd(p + i));
        a1 = _mm256_add_pd(a1, _mm256_loadu_pd(p + i + 4));
        a2 = _mm256_add_pd(a2, _mm256_loadu_pd(p + i + 8));
        a3 = _mm256_add_pd(a3, _mm256_loadu_pd(p + i + 12));
    }
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
    double s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    for (; i < n; ++i) s += p[i];
    return s;
}

double scalar_max(const double* p, std::size_t n) {
    double m = -INFINITY;
    for (std::size_t i = 0; i < n; ++i) m = p[i] > m ? p[i] : m;
    return m;
}

double scalar_variance(const double* p, std::size_t n) {
    const double mean = scalar_sum(p, n) / static_cast<double>(n);
    double m2 = 0;
    for (std::size_t i = 0; i < n; ++i) m2 += (p[i] - mean) * (p[i] - mean);
    return m2 / static_cast<double>(n - 1);
}

std::int64_t wrapping_sum(const std::int64_t* p, std::size_t n) {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<std::uint64_t>(p[i]);
    return static_cast<std::int64_t>(s);
}

std::string cpu_model() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    }
    return "unknown";
}

}  // namespace

int main() {
    std::printf("machine: %u cores, %s; kernels: %s\n", std::thread::hardware_concurrency(), cpu_model().c_str(),
                active_simd().name);
    const bool has_avx2 = __builtin_cpu_supports("avx2");
    std::printf("%-10s %10s | %-34s | %-28s | %-22s | %-22s\n", "elements", "bytes", "sum f64: ns/elem (x scalar, x avx2)",
                "sum i64 exact (x wrapping)", "max f64 (x scalar)", "variance (x 2-pass)");

    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    for (std::size_t n : {1'000ul, 32'768ul, 65'536ul, 1'000'000ul, 8'388'608ul, 16'000'000ul}) {
        Column<double> floats(n);
        Column<std::int64_t> ints(n);
        for (std::size_t i = 0; i < n; ++i) {
            floats[i] = dist(rng);
            ints[i] = static_cast<std::int64_t>(rng() >> 2);
        }
        const auto& simd = active_simd();
        const double t_kernel = median_seconds([&] { sink_double = simd.sum_f64(floats.data(), n); });
        const double t_scalar = median_seconds([&] { sink_double = scalar_sum(floats.data(), n); });
        const double t_avx2 = has_avx2 ? median_seconds([&] { sink_double = avx2_sum(floats.data(), n); }) : NAN;
        const double t_int = median_seconds([&] { sink_int = static_cast<std::int64_t>(simd.stats_i64(ints.data(), n, false).sum); });
        const double t_wrap = median_seconds([&] { sink_int = wrapping_sum(ints.data(), n); });
        const double t_max = median_seconds([&] { sink_double = simd.stats_f64(floats.data(), n, false).max; });
        const double t_max_ref = median_seconds([&] { sink_double = scalar_max(floats.data(), n); });
        const double t_var = median_seconds([&] { sink_double = simd.stats_f64(floats.data(), n, true).m2; });
        const double t_var_ref = median_seconds([&] { sink_double = scalar_variance(floats.data(), n); });
        const double per = 1e9 / static_cast<double>(n);
        std::printf("%-10zu %10zu | %6.3f (%5.2fx, %5.2fx)             | %6.3f (%5.2fx)             | %6.3f (%5.2fx)        | %6.3f (%5.2fx)\n",
                    n, n * 8, t_kernel * per, t_scalar / t_kernel, t_avx2 / t_kernel, t_int * per, t_wrap / t_int,
                    t_max * per, t_max_ref / t_max, t_var * per, t_var_ref / t_var);
    }
    return 0;
}
