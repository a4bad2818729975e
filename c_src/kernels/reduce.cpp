#include "reduce.hpp"

#include "summary.hpp"

namespace analytics::kernels {

std::vector<ReduceValue> reduce(const ColumnView& column, std::span<const Reducer> reducers, const SimdTable& simd) {
    for (const Reducer& r : reducers) validate(r);
    const Needs needs = needs_of(reducers);
    const Summary summary = std::visit([&](auto data) { return summarise(data, needs, simd); }, column);
    return emit(summary, reducers);
}

}  // namespace analytics::kernels
