#include "cast.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace analytics::kernels {
namespace {

// 2^63 is exact in a double; every double below it (and at or above -2^63)
// converts to i64 without undefined behaviour.
constexpr double kTwoTo63 = 9223372036854775808.0;

// The shortest text that reads back as `value`.
std::string shortest(double value) {
    char text[32];
    const auto end = std::to_chars(text, text + sizeof(text), value).ptr;
    return std::string(text, end);
}

[[noreturn]] void no_i64_value(double value, std::size_t index) {
    const std::string shown = std::isnan(value) ? "NaN" : std::isinf(value) ? (value > 0 ? "infinity" : "-infinity")
                                                                          : shortest(value);
    throw std::invalid_argument("cannot cast " + shown + " at index " + std::to_string(index) +
                                " to :i64 (it has no 64-bit integer value)");
}

}  // namespace

void cast_to_i64(std::span<const double> values, std::span<std::int64_t> out) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double x = values[i];
        // Written so that NaN fails the test too.
        if (!(x >= -kTwoTo63 && x < kTwoTo63)) no_i64_value(x, i);
        out[i] = static_cast<std::int64_t>(x);
    }
}

void cast_to_f64(std::span<const std::int64_t> values, std::span<double> out) {
    for (std::size_t i = 0; i < values.size(); ++i) out[i] = static_cast<double>(values[i]);
}

}  // namespace analytics::kernels
