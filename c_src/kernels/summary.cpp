#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "distinct.hpp"
#include "exact_product.hpp"
#include "moments.hpp"
#include "positions.hpp"
#include "quantile.hpp"

namespace analytics::kernels {

Needs needs_of(std::span<const Reducer> reducers) {
    Needs needs;
    for (const Reducer& r : reducers) {
        switch (r.kind) {
            case ReducerKind::sum:
            case ReducerKind::mean: needs.sum = true; break;
            case ReducerKind::min:
            case ReducerKind::max: needs.stats = true; break;
            case ReducerKind::argmin:
            case ReducerKind::argmax: needs.stats = needs.positions = true; break;
            case ReducerKind::variance:
            case ReducerKind::standard_deviation: needs.m2 = true; break;
            case ReducerKind::product: needs.product = true; break;
            case ReducerKind::quantile: needs.quantiles.push_back(r.parameter); break;
            case ReducerKind::n_distinct: needs.distinct = true; break;
            case ReducerKind::approx_n_distinct:
            case ReducerKind::hll_state: needs.hll = true; break;
            case ReducerKind::approx_quantile:
            case ReducerKind::dd_state: needs.dd = true; break;
            case ReducerKind::count: break;
        }
    }
    return needs;
}

void validate(const Reducer& r) {
    const bool is_ddof = r.kind == ReducerKind::variance || r.kind == ReducerKind::standard_deviation;
    if (is_ddof && !(r.parameter >= 0.0 && std::floor(r.parameter) == r.parameter)) {
        throw std::invalid_argument("ddof must be a non-negative integer, got: " + std::to_string(r.parameter));
    }
    const bool is_q = r.kind == ReducerKind::quantile || r.kind == ReducerKind::approx_quantile;
    if (is_q && !(r.parameter >= 0.0 && r.parameter <= 1.0)) {
        throw std::invalid_argument("quantile must be between 0 and 1, got: " + std::to_string(r.parameter));
    }
}

namespace {

ReduceValue spread(const Summary& s, double ddof, bool as_deviation) {
    if (static_cast<double>(s.count) <= ddof) return std::monostate{};
    const double variance = s.m2 / (static_cast<double>(s.count) - ddof);
    return as_deviation ? std::sqrt(variance) : variance;
}

}  // namespace

std::vector<ReduceValue> emit(const Summary& s, std::span<const Reducer> reducers) {
    const bool empty = s.count == 0;
    const ReduceValue nil;
    auto position = [](std::size_t p) { return ReduceValue(static_cast<std::int64_t>(p)); };
    std::vector<ReduceValue> values;
    values.reserve(reducers.size());
    std::size_t next_quantile = 0;
    for (const Reducer& r : reducers) {
        switch (r.kind) {
            case ReducerKind::sum: values.push_back(s.sum); break;
            case ReducerKind::count: values.push_back(static_cast<std::int64_t>(s.count)); break;
            case ReducerKind::min: values.push_back(empty ? nil : s.min); break;
            case ReducerKind::max: values.push_back(empty ? nil : s.max); break;
            case ReducerKind::mean: values.push_back(empty ? nil : ReduceValue(s.mean)); break;
            case ReducerKind::variance: values.push_back(spread(s, r.parameter, false)); break;
            case ReducerKind::standard_deviation: values.push_back(spread(s, r.parameter, true)); break;
            case ReducerKind::product: values.push_back(s.product); break;
            case ReducerKind::argmin: values.push_back(empty ? nil : position(s.argmin)); break;
            case ReducerKind::argmax: values.push_back(empty ? nil : position(s.argmax)); break;
            case ReducerKind::quantile:
                values.push_back(empty ? nil : ReduceValue(s.quantiles[next_quantile]));
                ++next_quantile;
                break;
            case ReducerKind::n_distinct: values.push_back(static_cast<std::int64_t>(s.distinct)); break;
            case ReducerKind::approx_n_distinct: values.push_back(s.hll->estimate()); break;
            case ReducerKind::approx_quantile: values.push_back(empty ? nil : ReduceValue(s.dd->quantile(r.parameter))); break;
            case ReducerKind::hll_state: values.push_back(s.hll->encode()); break;
            case ReducerKind::dd_state: values.push_back(s.dd->encode()); break;
        }
    }
    return values;
}

Summary empty_summary(const Needs& needs) {
    Summary s;
    if (needs.hll) s.hll.emplace();
    if (needs.dd) s.dd.emplace();
    return s;
}

namespace {

template <typename T>
void sketch(Summary& s, std::span<const T> data) {
    if (s.hll) s.hll->add(data);
    if (s.dd) s.dd->add(data);
}

}  // namespace

Summary summarise(std::span<const double> data, const Needs& needs, const SimdTable& simd) {
    Summary s = empty_summary(needs);
    sketch(s, data);
    s.count = data.size();
    double sum = 0.0;
    if (needs.stats || needs.m2) {
        const F64Stats stats = simd.stats_f64(data.data(), data.size(), needs.m2);
        sum = stats.sum;
        s.m2 = stats.m2;
        const double nan = std::numeric_limits<double>::quiet_NaN();
        const double min = stats.has_nan ? nan : stats.min;
        const double max = stats.has_nan ? nan : stats.max;
        s.min = min;
        s.max = max;
        if (needs.positions) {
            s.argmin = find_first(data, min);
            s.argmax = find_first(data, max);
        }
    } else if (needs.sum) {
        sum = simd.sum_f64(data.data(), data.size());
    }
    s.sum = sum;
    s.mean = sum / static_cast<double>(s.count);
    s.product = needs.product ? simd.product_f64(data.data(), data.size()) : 1.0;
    if (!needs.quantiles.empty() && !data.empty()) s.quantiles = quantiles(data, needs.quantiles);
    if (needs.distinct) s.distinct = n_distinct(data);
    return s;
}

Summary summarise(std::span<const std::int64_t> data, const Needs& needs, const SimdTable& simd) {
    Summary s = empty_summary(needs);
    sketch(s, data);
    s.count = data.size();
    s.sum = __int128{0};
    if (needs.sum || needs.stats) {
        const I64Stats stats = simd.stats_i64(data.data(), data.size(), needs.stats);
        s.sum = stats.sum;
        s.mean = static_cast<double>(stats.sum) / static_cast<double>(s.count);
        s.min = stats.min;
        s.max = stats.max;
        if (needs.positions) {
            s.argmin = find_first(data, stats.min);
            s.argmax = find_first(data, stats.max);
        }
    }
    if (needs.m2) {
        F64Stats moments = empty_moments();
        merge_integer_moments(moments, data, simd);
        s.m2 = moments.m2;
    }
    s.product = needs.product ? exact_product(data) : __int128{1};
    if (!needs.quantiles.empty() && !data.empty()) s.quantiles = quantiles(data, needs.quantiles);
    if (needs.distinct) s.distinct = n_distinct(data);
    return s;
}

}  // namespace analytics::kernels
