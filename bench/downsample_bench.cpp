// M4 against the plain pass anyone would write for a chart: each point's
// pixel column by a division, and that column's min and max. Ratio > 1 means
// m4 is faster. LTTB is shown for its cost. In one run, same data.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "../c_src/kernels/downsample.hpp"
#include "timing.hpp"

namespace {

using namespace analytics::kernels;
using analytics::bench::median_seconds;

volatile std::size_t sink;

std::size_t min_max_pass(const std::vector<std::int64_t>& times, const std::vector<double>& values, std::size_t width) {
    std::vector<double> low(width, std::numeric_limits<double>::infinity());
    std::vector<double> high(width, -std::numeric_limits<double>::infinity());
    const std::int64_t from = times.front();
    const double span = static_cast<double>(times.back() - from + 1);
    for (std::size_t i = 0; i < times.size(); ++i) {
        const auto column = static_cast<std::size_t>(static_cast<double>(times[i] - from) * width / span);
        low[column] = std::min(low[column], values[i]);
        high[column] = std::max(high[column], values[i]);
    }
    return static_cast<std::size_t>(std::count_if(low.begin(), low.end(), [](double v) { return std::isfinite(v); }));
}

}  // namespace

int main() {
    std::printf("downsample to 1,200 pixels vs a plain min/max-per-column pass, ratio = pass / m4\n");
    std::printf("%10s %10s %10s %9s %10s %8s\n", "points", "m4 ms", "pass ms", "ratio", "lttb ms", "m4 pts");
    constexpr std::size_t width = 1'200;
    for (std::size_t n : {100'000, 1'000'000, 8'000'000}) {
        std::mt19937_64 rng(n);
        std::normal_distribution<double> step(0.0, 1.0);
        std::uniform_int_distribution<std::int64_t> gap(1'000'000'000, 1'000'000'020);  // ~1 s apart, in ns
        std::vector<std::int64_t> times(n);
        std::vector<double> values(n);
        std::int64_t t = 1'700'000'000'000'000'000;
        double v = 0.0;
        for (std::size_t i = 0; i < n; ++i) times[i] = t += gap(rng), values[i] = v += step(rng);
        const std::span<const double> view(values);
        std::size_t kept = 0;
        const double m4_s = median_seconds([&] { sink = kept = m4(times, view, times.front(), times.back(), width).times.size(); });
        const double pass_s = median_seconds([&] { sink = min_max_pass(times, values, width); });
        const double lttb_s = median_seconds([&] { sink = lttb(times, view, times.front(), times.back(), width).times.size(); });
        std::printf("%10zu %10.2f %10.2f %9.2f %10.2f %8zu\n", n, m4_s * 1e3, pass_s * 1e3, pass_s / m4_s, lttb_s * 1e3,
                    kept);
    }
}
