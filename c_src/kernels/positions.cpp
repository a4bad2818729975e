#include "positions.hpp"

#include <cstring>

namespace analytics::kernels {
namespace {

template <typename T, typename Matches>
std::size_t first_where(std::span<const T> data, Matches matches) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    for (std::size_t i = 0; i < data.size(); ++i) {
        T x;
        std::memcpy(&x, bytes + i * sizeof(T), sizeof(T));
        if (matches(x)) return i;
    }
    return data.size();
}

}  // namespace

std::size_t find_first(std::span<const double> data, double value) {
    if (value != value) return first_where(data, [](double x) { return x != x; });
    return first_where(data, [value](double x) { return x == value; });
}

std::size_t find_first(std::span<const std::int64_t> data, std::int64_t value) {
    return first_where(data, [value](std::int64_t x) { return x == value; });
}

}  // namespace analytics::kernels
