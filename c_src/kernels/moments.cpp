#include "moments.hpp"

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

}  // namespace analytics::kernels
