#include <catch2/catch.hpp>

#include "../series/series.hpp"

using analytics::series::AlignedVector;
using analytics::series::ColumnData;
using analytics::series::Dtype;
using analytics::series::Series;

namespace {

Series f64_series(std::initializer_list<double> values) { return Series(ColumnData(AlignedVector<double>(values))); }

}  // namespace

TEST_CASE("columns are 64-byte aligned", "[series]") {
    const Series s = f64_series({1.0, 2.0, 3.0});
    REQUIRE(reinterpret_cast<std::uintptr_t>(s.bytes().data()) % 64 == 0);
    REQUIRE(s.dtype() == Dtype::f64);
}

TEST_CASE("slices share memory and check their bounds", "[series]") {
    const Series s = f64_series({1.0, 2.0, 3.0, 4.0});
    const Series middle = s.slice(1, 2);
    REQUIRE(middle.size() == 2);
    REQUIRE(middle.bytes().data() == s.bytes().data() + sizeof(double));
    const Series inner = middle.slice(1, 1);
    REQUIRE(std::get<std::span<const double>>(inner.view())[0] == 3.0);
    REQUIRE(s.slice(4, 0).size() == 0);
    REQUIRE_THROWS_AS(s.slice(5, 0), std::invalid_argument);
    REQUIRE_THROWS_AS(s.slice(2, 3), std::invalid_argument);
    REQUIRE_THROWS_AS(middle.slice(1, SIZE_MAX), std::invalid_argument);
}

TEST_CASE("concat joins in order and refuses mixed dtypes or nothing", "[series]") {
    const Series a = f64_series({1.0, 2.0});
    const Series b = f64_series({3.0});
    const Series empty = f64_series({});
    const std::vector<Series> pieces = {a, empty, b.slice(0, 1), a.slice(1, 1)};
    const Series joined = Series::concat(pieces);
    const auto view = std::get<std::span<const double>>(joined.view());
    REQUIRE(std::vector<double>(view.begin(), view.end()) == std::vector<double>{1.0, 2.0, 3.0, 2.0});
    const Series ints(ColumnData(AlignedVector<std::int64_t>{1}));
    const std::vector<Series> mixed = {a, ints};
    REQUIRE_THROWS_AS(Series::concat(mixed), std::invalid_argument);
    REQUIRE_THROWS_AS(Series::concat({}), std::invalid_argument);
}
