#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "../kernels/dispatch.hpp"
#include "../kernels/fused_reduce.hpp"
#include "test_data.hpp"

using namespace analytics::kernels;
using analytics::test::random_doubles;
using analytics::test::random_ints;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

ExprNode column(std::uint32_t c) { return {Op::column, 0, 0, c}; }
ExprNode constant(double v) { return {Op::constant, 0, 0, 0, v}; }
ExprNode unary(Op op, std::uint32_t a) { return {op, a}; }
ExprNode binary(Op op, std::uint32_t a, std::uint32_t b) { return {op, a, b}; }

// x * 2 + 1
Expression affine() {
    return Expression({column(0), constant(2.0), binary(Op::multiply, 0, 1), constant(1.0), binary(Op::add, 2, 3)}, 1);
}

// x > 0.5 and not is_nan(x)
Expression positive_half() {
    return Expression({column(0), constant(0.5), binary(Op::greater, 0, 1), unary(Op::is_nan, 0),
                       unary(Op::logical_not, 3), binary(Op::logical_and, 2, 4)},
                      1);
}

std::vector<ReduceValue> run(std::span<const ColumnView> columns, FusedQuery query, std::vector<Reducer> reducers) {
    return fused_reduce(columns, query, reducers, active_simd());
}

}  // namespace

TEST_CASE("expressions are type-checked when built", "[expression]") {
    CHECK_THROWS_WITH(Expression({}, 1), "an expression needs at least one node");
    CHECK_THROWS_WITH(Expression({column(1)}, 1), "expression column 1 is not among the 1 input columns");
    CHECK_THROWS_WITH(Expression({binary(Op::add, 0, 1)}, 1), "expression operands must come before their operator");
    CHECK_THROWS_WITH(Expression({column(0), unary(Op::logical_not, 0)}, 1),
                      "an operator that takes a predicate was given a number");
    CHECK_THROWS_WITH(Expression({column(0), unary(Op::is_nan, 0), binary(Op::add, 1, 1)}, 1),
                      "an operator that takes a number was given a predicate");
    CHECK(positive_half().is_predicate());
    CHECK_FALSE(affine().is_predicate());
}

TEST_CASE("every operator evaluates as IEEE and C++ do, across block edges", "[expression]") {
    const auto xs = random_doubles(2 * kExprBlock + 7, 5, -3.0, 3.0);
    const auto ys = random_doubles(xs.size(), 6, -3.0, 3.0);
    const ColumnView columns[] = {std::span<const double>(xs), std::span<const double>(ys)};
    struct Case {
        Op op;
        double (*expected)(double, double);
    };
    const Case cases[] = {
        {Op::add, [](double x, double y) { return x + y; }},
        {Op::subtract, [](double x, double y) { return x - y; }},
        {Op::multiply, [](double x, double y) { return x * y; }},
        {Op::divide, [](double x, double y) { return x / y; }},
        {Op::pow, [](double x, double y) { return std::pow(x, y); }},
        {Op::min, [](double x, double y) { return std::fmin(x, y); }},
        {Op::max, [](double x, double y) { return std::fmax(x, y); }},
        {Op::less, [](double x, double y) { return x < y ? 1.0 : 0.0; }},
        {Op::greater_equal, [](double x, double y) { return x >= y ? 1.0 : 0.0; }},
        {Op::negate, [](double x, double) { return -x; }},
        {Op::abs, [](double x, double) { return std::fabs(x); }},
        {Op::sqrt, [](double x, double) { return std::sqrt(x); }},
        {Op::log, [](double x, double) { return std::log(x); }},
        {Op::exp, [](double x, double) { return std::exp(x); }},
        {Op::floor, [](double x, double) { return std::floor(x); }},
        {Op::ceil, [](double x, double) { return std::ceil(x); }},
    };
    for (const Case& c : cases) {
        const bool is_unary = c.op == Op::negate || c.op == Op::abs || c.op == Op::sqrt || c.op == Op::log ||
                              c.op == Op::exp || c.op == Op::floor || c.op == Op::ceil;
        const Expression e({column(0), column(1), is_unary ? unary(c.op, 0) : binary(c.op, 0, 1)}, 2);
        std::vector<double> out(xs.size());
        evaluate_into(e, columns, out);
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double want = c.expected(xs[i], ys[i]);
            INFO("op " << static_cast<int>(c.op) << " row " << i);
            if (std::isnan(want)) {
                CHECK(std::isnan(out[i]));
            } else {
                CHECK(out[i] == want);
            }
        }
    }
}

TEST_CASE("min and max propagate NaN; predicates treat NaN as false", "[expression]") {
    const std::vector<double> xs = {kNan, 1.0, kNan};
    const std::vector<double> ys = {1.0, kNan, kNan};
    const ColumnView columns[] = {std::span<const double>(xs), std::span<const double>(ys)};
    std::vector<double> out(3);
    evaluate_into(Expression({column(0), column(1), binary(Op::min, 0, 1)}, 2), columns, out);
    for (double v : out) CHECK(std::isnan(v));
    evaluate_into(Expression({column(0), column(1), binary(Op::not_equal, 0, 1)}, 2), columns, out);
    CHECK(out == std::vector<double>{1.0, 1.0, 1.0});
    evaluate_into(Expression({column(0), column(1), binary(Op::less_equal, 0, 1)}, 2), columns, out);
    CHECK(out == std::vector<double>{0.0, 0.0, 0.0});
}

TEST_CASE("fused map, where and reducers equal the step-by-step reference", "[fused]") {
    for (std::size_t n : {0, 1, 5, 1023, 1024, 1025, 5000}) {
        auto xs = random_doubles(n, n + 11, -1.0, 2.0);
        const ColumnView columns[] = {std::span<const double>(xs)};
        const Expression map = affine();
        const Expression where = positive_half();
        std::vector<double> kept;
        std::size_t first_max_row = 0;
        double best = -1e300;
        for (std::size_t i = 0; i < n; ++i) {
            if (xs[i] > 0.5) {
                kept.push_back(xs[i] * 2.0 + 1.0);
                if (kept.back() > best) best = kept.back(), first_max_row = i;
            }
        }
        INFO("n " << n);
        const auto got = run(columns, {&map, &where},
                             {{ReducerKind::count}, {ReducerKind::sum}, {ReducerKind::max}, {ReducerKind::argmax},
                              {ReducerKind::variance, 1}, {ReducerKind::quantile, 0.5}});
        CHECK(std::get<std::int64_t>(got[0]) == static_cast<std::int64_t>(kept.size()));
        const auto reference = reduce(std::span<const double>(kept),
                                      std::vector<Reducer>{{ReducerKind::sum}, {ReducerKind::variance, 1},
                                                           {ReducerKind::quantile, 0.5}},
                                      active_simd());
        CHECK(std::get<double>(got[1]) == Approx(std::get<double>(reference[0])).epsilon(1e-12));
        if (kept.empty()) {
            CHECK(std::holds_alternative<std::monostate>(got[2]));
            CHECK(std::holds_alternative<std::monostate>(got[3]));
        } else {
            CHECK(std::get<double>(got[2]) == best);
            CHECK(std::get<std::int64_t>(got[3]) == static_cast<std::int64_t>(first_max_row));
        }
        if (kept.size() > 1) CHECK(std::get<double>(got[4]) == Approx(std::get<double>(reference[1])).epsilon(1e-9));
        if (!kept.empty()) CHECK(std::get<double>(got[5]) == std::get<double>(reference[2]));
    }
}

TEST_CASE("where without map keeps an i64 column exact; positions are input rows", "[fused]") {
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    std::vector<std::int64_t> xs(3000, big);
    xs[17] = -5;
    xs[2500] = -5;
    const ColumnView columns[] = {std::span<const std::int64_t>(xs)};
    // x > 0
    const Expression where({column(0), constant(0.0), binary(Op::greater, 0, 1)}, 1);
    const auto got = run(columns, {nullptr, &where}, {{ReducerKind::sum}, {ReducerKind::argmin}, {ReducerKind::n_distinct}});
    CHECK(std::get<__int128>(got[0]) == static_cast<__int128>(big) * 2998);
    CHECK(std::get<std::int64_t>(got[1]) == 0);
    CHECK(std::get<std::int64_t>(got[2]) == 1);
    // x < 0: argmin is the first -5's row
    const Expression negative({column(0), constant(0.0), binary(Op::less, 0, 1)}, 1);
    const auto neg = run(columns, {nullptr, &negative}, {{ReducerKind::argmin}, {ReducerKind::product}});
    CHECK(std::get<std::int64_t>(neg[0]) == 17);
    CHECK(std::get<__int128>(neg[1]) == 25);
}

TEST_CASE("NaN in a mapped block propagates through min and argmin across blocks", "[fused]") {
    auto xs = random_doubles(4000, 3, 1.0, 2.0);
    xs[3000] = kNan;
    xs[3500] = kNan;
    const ColumnView columns[] = {std::span<const double>(xs)};
    const Expression identity({column(0)}, 1);
    const auto got = run(columns, {&identity, nullptr}, {{ReducerKind::min}, {ReducerKind::argmin}, {ReducerKind::mean}});
    CHECK(std::isnan(std::get<double>(got[0])));
    CHECK(std::get<std::int64_t>(got[1]) == 3000);
    CHECK(std::isnan(std::get<double>(got[2])));
}

TEST_CASE("fused queries reject what they cannot answer", "[fused]") {
    const std::vector<double> a(4, 1.0), b(5, 1.0);
    const ColumnView two[] = {std::span<const double>(a), std::span<const double>(b)};
    const ColumnView one[] = {std::span<const double>(a)};
    const Expression sum2({column(0), column(1), binary(Op::add, 0, 1)}, 2);
    const Expression map = affine();
    const Expression where = positive_half();
    CHECK_THROWS_WITH(run(two, {&sum2, nullptr}, {{ReducerKind::sum}}), "columns differ in length: 4 and 5");
    CHECK_THROWS_WITH(run(two, {nullptr, nullptr}, {{ReducerKind::sum}}), "reducing 2 columns needs map: to say what to reduce");
    CHECK_THROWS_WITH(run(one, {&where, nullptr}, {{ReducerKind::sum}}),
                      "map: must compute a number, got a predicate (use it as where:)");
    CHECK_THROWS_WITH(run(one, {nullptr, &map}, {{ReducerKind::sum}}),
                      "where: must be a predicate (a comparison, is_nan, and/or/not), got a number");
}
