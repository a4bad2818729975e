#include "quantile.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "recycled_memory.hpp"

namespace analytics::kernels {
namespace {

// The selection works on a copy in warm, recycled memory: a fresh 8 MiB
// buffer costs more to fault in than the selection itself.
template <typename T>
ScratchArray<T> copy_out(std::span<const T> data) {
    // memcpy, not element copies: the span may sit at any byte address.
    ScratchArray<T> values(data.size());
    std::memcpy(values.data(), data.data(), data.size_bytes());
    return values;
}

// std::lerp rather than below + (above - below) * fraction: the difference of
// two finite neighbours near the limits (1e308 and -1e308) overflows to
// infinity, and lerp cannot overflow for finite ends, is exact at both ends
// and is monotonic in the fraction. Equal ends (two infinities of one sign)
// are answered before it, where it would give NaN.
double interpolate(double below, double above, double fraction) {
    if (fraction == 0.0 || below == above) return below;
    return std::lerp(below, above, fraction);
}

// Selects each requested rank in increasing order; every selection only
// partitions what lies above the previous one.
template <typename T>
std::vector<double> select_quantiles(std::span<T> values, std::span<const double> qs) {
    const std::size_t n = values.size();
    std::vector<std::size_t> order(qs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return qs[a] < qs[b]; });

    std::vector<double> result(qs.size());
    std::size_t selected_from = 0;
    for (std::size_t index : order) {
        const double position = qs[index] * static_cast<double>(n - 1);
        const auto rank = static_cast<std::size_t>(std::floor(position));
        const double fraction = position - static_cast<double>(rank);
        if (rank >= selected_from) {
            std::nth_element(values.begin() + static_cast<std::ptrdiff_t>(selected_from),
                             values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
            selected_from = rank + 1;
        }
        const double below = static_cast<double>(values[rank]);
        double above = below;
        if (fraction > 0.0 && rank + 1 < n) {
            above = static_cast<double>(*std::min_element(values.begin() + static_cast<std::ptrdiff_t>(rank + 1), values.end()));
        }
        result[index] = interpolate(below, above, fraction);
    }
    return result;
}

}  // namespace

std::vector<double> quantiles(std::span<const double> data, std::span<const double> qs) {
    auto values = copy_out(data);
    if (std::any_of(values.span().begin(), values.span().end(), [](double x) { return std::isnan(x); })) {
        return std::vector<double>(qs.size(), std::numeric_limits<double>::quiet_NaN());
    }
    return select_quantiles(values.span(), qs);
}

std::vector<double> quantiles(std::span<const std::int64_t> data, std::span<const double> qs) {
    auto values = copy_out(data);
    return select_quantiles(values.span(), qs);
}

}  // namespace analytics::kernels
