// A read-only view of one typed column: what every kernel takes.
#pragma once

#include <cstdint>
#include <span>
#include <variant>

namespace analytics::kernels {

using ColumnView = std::variant<std::span<const double>, std::span<const std::int64_t>>;

}  // namespace analytics::kernels
