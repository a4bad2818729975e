// The values of a column at given rows, in the rows' order (filter's gather).
#pragma once

#include <cstddef>
#include <span>

namespace analytics::kernels {

template <typename T>
void take(std::span<const T> values, std::span<const std::size_t> rows, std::span<T> out) {
    for (std::size_t i = 0; i < rows.size(); ++i) out[i] = values[rows[i]];
}

}  // namespace analytics::kernels
