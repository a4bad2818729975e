#include "exact_product.hpp"

#include <cstring>
#include <stdexcept>

namespace analytics::kernels {

__int128 exact_product(std::span<const std::int64_t> data) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    __int128 product = 1;
    bool overflowed = false;
    for (std::size_t i = 0; i < data.size(); ++i) {
        std::int64_t x;
        std::memcpy(&x, bytes + i * sizeof(x), sizeof(x));
        // A zero anywhere settles the answer, even after an overflow.
        if (x == 0) return 0;
        if (!overflowed) overflowed = __builtin_mul_overflow(product, static_cast<__int128>(x), &product);
    }
    if (overflowed) {
        throw std::invalid_argument("product of the :i64 values overflows 128 bits; reduce an :f64 series instead");
    }
    return product;
}

}  // namespace analytics::kernels
