#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "../kernels/downsample.hpp"
#include "test_data.hpp"

using namespace analytics::kernels;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

std::span<const double> doubles(const std::vector<double>& v) { return v; }

}  // namespace

TEST_CASE("M4 keeps each slice's first, lowest, highest and last point, in time order", "[downsample]") {
    const std::vector<std::int64_t> times = {0, 1, 2, 3, 4, 5, 6, 7};
    const std::vector<double> values = {5, 1, 9, 4, 2, 8, 3, 6};
    const Points two = m4(times, doubles(values), 0, 7, 2);
    REQUIRE(two.times == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 7});
    REQUIRE(two.values == std::vector<double>{5, 1, 9, 4, 2, 8, 6});
    // A slice per point keeps every point; more slices than points too.
    REQUIRE(m4(times, doubles(values), 0, 7, 8).times == times);
    REQUIRE(m4(times, doubles(values), 0, 7, 1000).times == times);
    // Equal values: the first of them; NaN is left out.
    const std::vector<double> flat = {3, kNan, 3, 3};
    const Points kept = m4(std::span<const std::int64_t>(times).first(4), doubles(flat), 0, 3, 1);
    REQUIRE(kept.times == std::vector<std::int64_t>{0, 3});
}

TEST_CASE("M4 slices nanosecond ranges across the whole i64 span without overflow", "[downsample]") {
    constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
    constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
    const std::vector<std::int64_t> times = {lo, lo / 2, -1, 0, hi / 2, hi};
    const std::vector<double> values = {1, 9, 3, 4, -5, 6};
    // Two slices split at 0, [lo, -1] and [0, hi], each keeping all three.
    const Points two = m4(times, doubles(values), lo, hi, 2);
    REQUIRE(two.times == times);
    const Points one = m4(times, doubles(values), lo, hi, 1);
    REQUIRE(one.times == std::vector<std::int64_t>{lo, lo / 2, hi / 2, hi});
}

TEST_CASE("M4 and LTTB read i64 values and any alignment", "[downsample]") {
    const auto times_vec = analytics::test::random_ints(10'000, 3, 0, 1'000'000);
    auto sorted = times_vec;
    std::sort(sorted.begin(), sorted.end());
    const auto values = analytics::test::random_ints(10'000, 4, -1000, 1000);
    std::vector<double> as_doubles(values.begin(), values.end());
    for (std::size_t misalignment : {0, 8, 24}) {
        analytics::test::Misaligned<std::int64_t> shifted(values, misalignment);
        const ColumnView ints = shifted.span();
        REQUIRE(m4(sorted, ints, 0, 1'000'000, 300).values == m4(sorted, doubles(as_doubles), 0, 1'000'000, 300).values);
        REQUIRE(lttb(sorted, ints, 0, 1'000'000, 300).times == lttb(sorted, doubles(as_doubles), 0, 1'000'000, 300).times);
    }
}

TEST_CASE("LTTB keeps the ends and count points, choosing the largest triangles", "[downsample]") {
    const std::vector<std::int64_t> times = {0, 1, 2, 3, 4, 5, 6, 7};
    const std::vector<double> values = {5, 1, 9, 4, 2, 8, 3, 6};
    REQUIRE(lttb(times, doubles(values), 0, 7, 3).times == std::vector<std::int64_t>{0, 1, 7});
    REQUIRE(lttb(times, doubles(values), 0, 7, 8).times == times);
    REQUIRE(lttb(times, doubles(values), 0, 7, 2).times == std::vector<std::int64_t>{0, 7});
    const Points many = lttb(times, doubles(values), 0, 7, 5);
    REQUIRE(many.times.size() == 5);
    REQUIRE(many.times.front() == 0);
    REQUIRE(many.times.back() == 7);
}

TEST_CASE("downsampling refuses unsorted times, ragged columns, empty widths and reversed ranges", "[downsample]") {
    const std::vector<std::int64_t> times = {0, 2, 1};
    const std::vector<double> values = {1, 2, 3};
    REQUIRE_THROWS_WITH(m4(times, doubles(values), 0, 2, 4), Catch::Contains("index 2 is earlier"));
    const std::vector<std::int64_t> sorted = {0, 1, 2};
    REQUIRE_THROWS_WITH(lttb(sorted, doubles({1.0, 2.0}), 0, 2, 4), Catch::Contains("equally long"));
    REQUIRE_THROWS_WITH(m4(sorted, doubles(values), 0, 2, 0), Catch::Contains("width must be a positive integer"));
    REQUIRE_THROWS_WITH(m4(sorted, doubles(values), 3, 2, 4), Catch::Contains("from <= to"));
    REQUIRE(m4({}, doubles({}), 0, 0, 4).times.empty());
}
