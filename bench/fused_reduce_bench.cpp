// Fused map + where + three reducers against the same work done in steps
// with the library's own pieces (a mapped column, a mask column, a compacted
// column, then one reduction), and against a loop fused by hand in C++.
// Ratios > 1 mean the fused kernel is faster. In one run, same data.
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "../c_src/kernels/dispatch.hpp"
#include "../c_src/kernels/fused_reduce.hpp"
#include "timing.hpp"

namespace {

using namespace analytics::kernels;
using analytics::bench::median_seconds;

volatile double sink;

// x * 2 + 1, and x > 0.5 and not is_nan(x), as Analytics.expr builds them.
Expression map_expression() {
    return Expression({{Op::column}, {Op::constant, 0, 0, 0, 2.0}, {Op::multiply, 0, 1}, {Op::constant, 0, 0, 0, 1.0},
                       {Op::add, 2, 3}},
                      1);
}

Expression where_expression() {
    return Expression({{Op::column}, {Op::constant, 0, 0, 0, 0.5}, {Op::greater, 0, 1}, {Op::is_nan, 0},
                       {Op::logical_not, 3}, {Op::logical_and, 2, 4}},
                      1);
}

const std::vector<Reducer> kReducers = {{ReducerKind::sum}, {ReducerKind::max}, {ReducerKind::mean}};

double step_by_step(const std::vector<double>& xs, const Expression& map, const Expression& where) {
    const ColumnView columns[] = {std::span<const double>(xs)};
    std::vector<double> mapped(xs.size()), mask(xs.size());
    evaluate_into(map, columns, mapped);
    evaluate_into(where, columns, mask);
    std::vector<double> kept;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (mask[i] != 0.0) kept.push_back(mapped[i]);
    }
    const auto values = reduce(std::span<const double>(kept), kReducers, active_simd());
    return std::get<double>(values[0]);
}

double hand_fused(const std::vector<double>& xs) {
    double sum = 0.0, max = -std::numeric_limits<double>::infinity();
    std::size_t count = 0;
    for (double x : xs) {
        if (x > 0.5 && !std::isnan(x)) {
            const double y = x * 2.0 + 1.0;
            sum += y;
            max = y > max ? y : max;
            ++count;
        }
    }
    return sum + max + sum / static_cast<double>(count);
}

}  // namespace

int main() {
    std::printf("fused map + where + [sum, max, mean], ratio = other / fused (kernels: %s)\n", active_simd().name);
    std::printf("%10s %12s %14s %9s %14s %9s\n", "rows", "fused ms", "step-by-step", "ratio", "hand-fused C++", "ratio");
    const Expression map = map_expression();
    const Expression where = where_expression();
    for (std::size_t n : {100'000, 1'000'000, 16'000'000}) {
        std::mt19937_64 rng(n);
        std::uniform_real_distribution<double> dist(0.0, 1.0);
        std::vector<double> xs(n);
        for (double& x : xs) x = dist(rng);
        const ColumnView columns[] = {std::span<const double>(xs)};
        const double fused = median_seconds([&] {
            sink = std::get<double>(fused_reduce(columns, {&map, &where}, kReducers, active_simd())[0]);
        });
        const double steps = median_seconds([&] { sink = step_by_step(xs, map, where); });
        const double hand = median_seconds([&] { sink = hand_fused(xs); });
        std::printf("%10zu %12.3f %14.3f %9.2f %14.3f %9.2f\n", n, fused * 1e3, steps * 1e3, steps / fused, hand * 1e3,
                    hand / fused);
    }
}
