// Quantiles by selection (expected O(n) per requested quantile), not sorting.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace analytics::kernels {

// Quantiles with NumPy's default linear interpolation between the closest
// ranks; `qs` may be in any order, each in [0, 1]. Any NaN in the data makes
// every answer NaN. `data` must not be empty.
std::vector<double> quantiles(std::span<const double> data, std::span<const double> qs);
std::vector<double> quantiles(std::span<const std::int64_t> data, std::span<const double> qs);

}  // namespace analytics::kernels
