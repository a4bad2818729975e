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
#include "../c_src/kernels/recycled_memory.hpp"
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

// Issue 15's references: a warm buffer allocated once, outside the timing.
double reference_quantile(std::vector<double>& warm, const Column<double>& data, double q) {
    std::copy(data.begin(), data.end(), warm.begin());
    const auto rank = static_cast<std::ptrdiff_t>(q * static_cast<double>(data.size() - 1));
    std::nth_element(warm.begin(), warm.begin() + rank, warm.end());
    return warm[static_cast<std::size_t>(rank)];
}

std::size_t reference_distinct(std::vector<std::int64_t>& warm, const Column<std::int64_t>& data) {
    std::copy(data.begin(), data.end(), warm.begin());
    std::sort(warm.begin(), warm.end());
    return static_cast<std::size_t>(std::unique(warm.begin(), warm.end()) - warm.begin());
}

// Selection and distinct counting at 1M against the references, with the
// kernels' temporaries recycled (warm) and with the pool emptied before each
// call (fresh memory every time, as before the pool).
void selection_rows() {
    using analytics::kernels::Reducer;
    using analytics::kernels::ReducerKind;
    constexpr std::size_t n = 1'000'000;
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    Column<double> floats(n);
    Column<std::int64_t> ints(n);
    for (std::size_t i = 0; i < n; ++i) {
        floats[i] = dist(rng);
        ints[i] = static_cast<std::int64_t>(rng() >> 2);
    }
    std::vector<double> warm_floats(n);
    std::vector<std::int64_t> warm_ints(n);
    const auto& simd = active_simd();
    const Reducer q99[] = {{ReducerKind::quantile, 0.99}};
    const Reducer q3[] = {{ReducerKind::quantile, 0.5}, {ReducerKind::quantile, 0.9}, {ReducerKind::quantile, 0.99}};
    const Reducer distinct[] = {{ReducerKind::n_distinct}};
    const analytics::kernels::ColumnView fview(std::span<const double>(floats.data(), n));
    const analytics::kernels::ColumnView iview(std::span<const std::int64_t>(ints.data(), n));
    auto reduce_fresh = [&](const analytics::kernels::ColumnView& view, std::span<const Reducer> rs) {
        analytics::kernels::release_retained();
        return analytics::kernels::reduce(view, rs, simd);
    };

    const double t_ref_q = median_seconds([&] { sink_double = reference_quantile(warm_floats, floats, 0.99); });
    const double t_q = median_seconds([&] { sink_int = analytics::kernels::reduce(fview, q99, simd).size(); });
    const double t_q_fresh = median_seconds([&] { sink_int = reduce_fresh(fview, q99).size(); });
    const double t_q3 = median_seconds([&] { sink_int = analytics::kernels::reduce(fview, q3, simd).size(); });
    const double t_ref_d = median_seconds([&] { sink_int = static_cast<std::int64_t>(reference_distinct(warm_ints, ints)); });
    const double t_d = median_seconds([&] { sink_int = analytics::kernels::reduce(iview, distinct, simd).size(); });
    const double t_d_fresh = median_seconds([&] { sink_int = reduce_fresh(iview, distinct).size(); });
    std::printf("\n1M values, ms (x reference = reference time / kernel time)\n");
    std::printf("quantile 0.99 f64: %7.2f (%4.2fx), pool emptied each call %7.2f (%4.2fx); reference copy into a warm buffer + nth_element %7.2f\n",
                t_q * 1e3, t_ref_q / t_q, t_q_fresh * 1e3, t_ref_q / t_q_fresh, t_ref_q * 1e3);
    std::printf("quantiles 0.5, 0.9, 0.99 in one call: %7.2f (%4.2fx one reference selection)\n", t_q3 * 1e3, t_ref_q / t_q3);
    std::printf("n_distinct i64, all distinct: %7.2f (%4.2fx), pool emptied each call %7.2f (%4.2fx); reference copy + sort + unique %7.2f\n",
                t_d * 1e3, t_ref_d / t_d, t_d_fresh * 1e3, t_ref_d / t_d_fresh, t_ref_d * 1e3);
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
    selection_rows();
    return 0;
}
