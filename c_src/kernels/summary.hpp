// The building blocks of a reduction: which passes a set of reducers needs,
// the summary those passes produce, and the values read off a summary.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "reduce.hpp"
#include "sketches.hpp"

namespace analytics::kernels {

// Which passes a set of reducers needs; each pass runs once however many
// reducers share it.
struct Needs {
    bool sum = false;
    bool stats = false;  // min, max, NaN flag (and sum, for free)
    bool m2 = false;
    bool product = false;
    bool distinct = false;
    bool positions = false;
    bool hll = false;
    bool dd = false;
    std::vector<double> quantiles;
};

Needs needs_of(std::span<const Reducer> reducers);

// Throws std::invalid_argument for a parameter out of range.
void validate(const Reducer& r);

// Everything the reducers may ask for, already in its result type.
struct Summary {
    std::size_t count = 0;
    ReduceValue sum, min, max, product;
    double mean = 0.0;
    double m2 = 0.0;
    std::size_t argmin = 0, argmax = 0;
    std::vector<double> quantiles;
    std::size_t distinct = 0;
    std::optional<HyperLogLog> hll;
    std::optional<DDSketch> dd;
};

// A summary with the sketches `needs` asks for, empty.
Summary empty_summary(const Needs& needs);

Summary summarise(std::span<const double> data, const Needs& needs, const SimdTable& simd);
Summary summarise(std::span<const std::int64_t> data, const Needs& needs, const SimdTable& simd);

// One value per reducer, in the reducers' order.
std::vector<ReduceValue> emit(const Summary& s, std::span<const Reducer> reducers);

}  // namespace analytics::kernels
