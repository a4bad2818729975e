#include "moments.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace analytics::kernels {

F64Stats empty_moments() {
    F64Stats s;
    s.min = std::numeric_limits<double>::infinity();
    s.max = -std::numeric_limits<double>::infinity();
    return s;
}

void merge_moments(F64Stats& acc, const F64Stats& piece) {
    if (piece.count == 0) return;
    if (acc.count == 0) {
        acc = piece;
        return;
    }
    const double na = static_cast<double>(acc.count);
    const double nb = static_cast<double>(piece.count);
    const double n = na + nb;
    const double delta = piece.mean - acc.mean;
    acc.mean += delta * (nb / n);
    acc.m2 += piece.m2 + delta * delta * (na * nb / n);
    acc.sum += piece.sum;
    acc.count += piece.count;
    acc.min = piece.min < acc.min ? piece.min : acc.min;
    acc.max = piece.max > acc.max ? piece.max : acc.max;
    acc.has_nan = acc.has_nan || piece.has_nan;
}

void merge_integer_moments(F64Stats& acc, std::span<const std::int64_t> data, const SimdTable& simd) {
    // Small: this may run on a scheduler thread's stack.
    constexpr std::size_t kBlock = 1024;
    double buffer[kBlock];
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    for (std::size_t start = 0; start < data.size(); start += kBlock) {
        const std::size_t len = std::min(kBlock, data.size() - start);
        for (std::size_t i = 0; i < len; ++i) {
            std::int64_t x;
            std::memcpy(&x, bytes + (start + i) * sizeof(x), sizeof(x));
            buffer[i] = static_cast<double>(x);
        }
        merge_moments(acc, simd.stats_f64(buffer, len, true));
    }
}

}  // namespace analytics::kernels
