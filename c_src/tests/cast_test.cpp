#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "../kernels/cast.hpp"

using namespace analytics::kernels;

TEST_CASE("cast_to_i64 truncates toward zero at and near the i64 limits", "[cast]") {
    const std::vector<double> values{0.0, -0.0, 2.9, -2.9, 1e15 + 0.5, -9223372036854775808.0,
                                     9223372036854774784.0};  // the largest double below 2^63
    std::vector<std::int64_t> out(values.size());
    cast_to_i64(values, out);
    CHECK(out == std::vector<std::int64_t>{0, 0, 2, -2, 1'000'000'000'000'000, std::numeric_limits<std::int64_t>::min(),
                                           9223372036854774784});
}

TEST_CASE("cast_to_i64 names the first element without an i64 value", "[cast]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<std::pair<double, std::string>> bad{
        {nan, "NaN at index 1"}, {inf, "infinity at index 1"}, {-inf, "-infinity at index 1"},
        {9223372036854775808.0, "at index 1"}, {-9223372036854777856.0, "at index 1"}};
    for (const auto& [value, message] : bad) {
        const std::vector<double> values{1.0, value, nan};
        std::vector<std::int64_t> out(values.size());
        REQUIRE_THROWS_WITH(cast_to_i64(values, out), Catch::Contains(message));
    }
}

TEST_CASE("cast_to_f64 is exact up to 2^53 and rounds beyond", "[cast]") {
    const std::vector<std::int64_t> values{0, -7, 9007199254740992, 9007199254740993,
                                           std::numeric_limits<std::int64_t>::max()};
    std::vector<double> out(values.size());
    cast_to_f64(values, out);
    CHECK(out == std::vector<double>{0.0, -7.0, 9007199254740992.0, 9007199254740992.0, 9223372036854775808.0});
}
