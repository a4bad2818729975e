// Typed evaluation: exact i64 arithmetic and comparisons, div/rem, select.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "../kernels/expression.hpp"
#include "test_data.hpp"

using namespace analytics::kernels;
using analytics::test::random_ints;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

ExprNode column(std::uint32_t c) { return {Op::column, 0, 0, c}; }
ExprNode integer(std::int64_t v) { return {Op::integer, 0, 0, 0, 0.0, 0, v}; }
ExprNode constant(double v) { return {Op::constant, 0, 0, 0, v}; }
ExprNode unary(Op op, std::uint32_t a) { return {op, a}; }
ExprNode binary(Op op, std::uint32_t a, std::uint32_t b) { return {op, a, b}; }
ExprNode select(std::uint32_t c, std::uint32_t a, std::uint32_t b) { return {Op::select, c, a, 0, 0.0, b}; }

std::vector<std::int64_t> run_i64(const Expression& e, std::span<const ColumnView> columns) {
    BlockEvaluator evaluator(e, columns);
    REQUIRE(evaluator.result_type() == ValueType::i64);
    std::vector<std::int64_t> out(common_length(columns));
    evaluate_into(evaluator, std::span<std::int64_t>(out));
    return out;
}

std::vector<double> run_f64(const Expression& e, std::span<const ColumnView> columns) {
    std::vector<double> out(common_length(columns));
    evaluate_into(e, columns, out);
    return out;
}

}  // namespace

TEST_CASE("integer arithmetic on i64 columns stays i64 and exact, across blocks", "[expression]") {
    const auto xs = random_ints(2 * kExprBlock + 5, 3, -(std::int64_t{1} << 40), std::int64_t{1} << 40);
    const auto ys = random_ints(xs.size(), 4, -1000, 1000);
    const ColumnView columns[] = {std::span<const std::int64_t>(xs), std::span<const std::int64_t>(ys)};
    // (x * 3 - y) + div(x, y) + rem(x, y) + max(x, y)
    const Expression e({column(0), integer(3), binary(Op::multiply, 0, 1), column(1), binary(Op::subtract, 2, 3),
                        binary(Op::int_div, 0, 3), binary(Op::add, 4, 5), binary(Op::int_rem, 0, 3),
                        binary(Op::add, 6, 7), binary(Op::max, 0, 3), binary(Op::add, 8, 9)},
                       2);
    const auto out = run_i64(e, columns);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const std::int64_t x = xs[i], y = ys[i];
        const std::int64_t d = y == 0 ? 0 : x / y;
        const std::int64_t r = y == 0 ? x : x % y;
        INFO("row " << i);
        CHECK(out[i] == x * 3 - y + d + r + std::max(x, y));
    }
}

TEST_CASE("i64 overflow is an error naming the row; div and rem by zero are 0 and the dividend", "[expression]") {
    const std::vector<std::int64_t> xs = {1, kMax, 5};
    const std::vector<std::int64_t> zeros = {0, 0, 0};
    const ColumnView columns[] = {std::span<const std::int64_t>(xs), std::span<const std::int64_t>(zeros)};
    CHECK_THROWS_WITH(run_i64(Expression({column(0), integer(1), binary(Op::add, 0, 1)}, 2), columns),
                      Catch::Contains("integer overflow in + at row 1"));
    CHECK_THROWS_WITH(run_i64(Expression({column(0), integer(2), binary(Op::multiply, 0, 1)}, 2), columns),
                      Catch::Contains("integer overflow in * at row 1"));
    CHECK(run_i64(Expression({column(0), column(1), binary(Op::int_div, 0, 1)}, 2), columns) ==
          std::vector<std::int64_t>{0, 0, 0});
    CHECK(run_i64(Expression({column(0), column(1), binary(Op::int_rem, 0, 1)}, 2), columns) == xs);

    const std::vector<std::int64_t> mins = {kMin, kMin};
    const ColumnView min_column[] = {std::span<const std::int64_t>(mins)};
    CHECK_THROWS_WITH(run_i64(Expression({column(0), integer(-1), binary(Op::int_div, 0, 1)}, 1), min_column),
                      Catch::Contains("integer overflow in div at row 0"));
    CHECK_THROWS_WITH(run_i64(Expression({column(0), unary(Op::abs, 0)}, 1), min_column),
                      Catch::Contains("integer overflow in abs at row 0"));
    CHECK(run_i64(Expression({column(0), integer(-1), binary(Op::int_rem, 0, 1)}, 1), min_column) ==
          std::vector<std::int64_t>{0, 0});
}

TEST_CASE("comparisons are exact between i64 values beyond 2^53 and doubles", "[expression]") {
    const std::int64_t big = (std::int64_t{1} << 60) + 1;  // rounds to 2^60 as a double
    const std::vector<std::int64_t> ts = {big, big - 2, kMax, kMin};
    const std::vector<double> fs = {std::ldexp(1.0, 60), std::ldexp(1.0, 60), std::ldexp(1.0, 63), kNan};
    const ColumnView columns[] = {std::span<const std::int64_t>(ts), std::span<const double>(fs)};
    CHECK(run_f64(Expression({column(0), integer(big), binary(Op::equal, 0, 1)}, 2), columns) ==
          std::vector<double>{1.0, 0.0, 0.0, 0.0});
    CHECK(run_f64(Expression({column(0), integer(big), binary(Op::less, 0, 1)}, 2), columns) ==
          std::vector<double>{0.0, 1.0, 0.0, 1.0});
    // i64 against f64: 2^60 + 1 > 2^60, 2^60 - 1 < 2^60, max < 2^63; NaN is unordered.
    CHECK(run_f64(Expression({column(0), column(1), binary(Op::greater, 0, 1)}, 2), columns) ==
          std::vector<double>{1.0, 0.0, 0.0, 0.0});
    CHECK(run_f64(Expression({column(1), column(0), binary(Op::greater, 0, 1)}, 2), columns) ==
          std::vector<double>{0.0, 1.0, 1.0, 0.0});
    CHECK(run_f64(Expression({column(0), column(1), binary(Op::not_equal, 0, 1)}, 2), columns) ==
          std::vector<double>{1.0, 1.0, 1.0, 1.0});
    CHECK(run_f64(Expression({column(0), constant(2.5), binary(Op::less_equal, 0, 1)}, 2), columns) ==
          std::vector<double>{0.0, 0.0, 0.0, 1.0});
}

TEST_CASE("select picks row by row; mixed branches and float operators give f64", "[expression]") {
    const std::vector<std::int64_t> xs = {-3, 0, 7};
    const std::vector<double> fs = {0.5, -1.5, 2.5};
    const ColumnView columns[] = {std::span<const std::int64_t>(xs), std::span<const double>(fs)};
    // if(x > 0, x, -x)
    const Expression abs_by_select({column(0), integer(0), binary(Op::greater, 0, 1), unary(Op::negate, 0),
                                    select(2, 0, 3)},
                                   2);
    CHECK(run_i64(abs_by_select, columns) == std::vector<std::int64_t>{3, 0, 7});
    // if(x > 0, x, f) is f64
    const Expression mixed({column(0), integer(0), binary(Op::greater, 0, 1), column(1), select(2, 0, 3)}, 2);
    BlockEvaluator evaluator(mixed, columns);
    CHECK(evaluator.result_type() == ValueType::f64);
    CHECK(run_f64(mixed, columns) == std::vector<double>{0.5, -1.5, 7.0});
    CHECK(run_f64(Expression({column(1), unary(Op::round, 0)}, 2), columns) == std::vector<double>{1.0, -2.0, 3.0});
    CHECK(run_f64(Expression({column(1), constant(1.0), binary(Op::int_rem, 0, 1)}, 2), columns) ==
          std::vector<double>{0.5, -0.5, 0.5});
    CHECK(run_f64(Expression({column(1), constant(0.0), binary(Op::int_div, 0, 1)}, 2), columns) ==
          std::vector<double>{INFINITY, -INFINITY, INFINITY});
    CHECK(BlockEvaluator(Expression({column(0), integer(2), binary(Op::divide, 0, 1)}, 2), columns).result_type() ==
          ValueType::f64);
    CHECK_THROWS_WITH(Expression({column(0), column(0), column(0), select(0, 1, 2)}, 1),
                      "an operator that takes a predicate was given a number");
}

TEST_CASE("selected_rows keeps the rows where a predicate holds", "[expression]") {
    const auto xs = random_ints(3 * kExprBlock + 1, 9, -5, 5);
    const ColumnView columns[] = {std::span<const std::int64_t>(xs)};
    const auto rows = selected_rows(Expression({column(0), integer(2), binary(Op::int_rem, 0, 1), integer(0),
                                                binary(Op::equal, 2, 3)},
                                               1),
                                    columns);
    std::vector<std::size_t> expected;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (xs[i] % 2 == 0) expected.push_back(i);
    }
    CHECK(rows == expected);
    CHECK_THROWS_WITH(selected_rows(Expression({column(0)}, 1), columns), Catch::Contains("filter needs a predicate"));
}
