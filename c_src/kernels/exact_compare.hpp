// Exact comparison of i64 and f64 values: converting an integer beyond 2^53
// to a double rounds it, so nanosecond timestamps would compare wrongly.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>

namespace analytics::kernels {

// Unordered when a NaN is involved.
inline std::partial_ordering exact_order(std::int64_t i, double d) {
    constexpr double kTwo63 = 9223372036854775808.0;
    if (std::isnan(d)) return std::partial_ordering::unordered;
    if (d >= kTwo63) return std::partial_ordering::less;
    if (d < -kTwo63) return std::partial_ordering::greater;
    const double whole = std::trunc(d);  // in [-2^63, 2^63): representable as i64
    const auto integer = static_cast<std::int64_t>(whole);
    if (i != integer) return i <=> integer;
    return 0.0 <=> d - whole;  // equal integer parts: d's fraction decides
}
inline std::partial_ordering exact_order(double d, std::int64_t i) { return 0 <=> exact_order(i, d); }
inline std::partial_ordering exact_order(double a, double b) { return a <=> b; }
inline std::partial_ordering exact_order(std::int64_t a, std::int64_t b) { return a <=> b; }

}  // namespace analytics::kernels
