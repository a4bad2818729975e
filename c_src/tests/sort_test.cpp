// sort, argsort and search_sorted against std::stable_sort and linear scans.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "../kernels/sort.hpp"
#include "test_data.hpp"

using namespace analytics::kernels;
using analytics::test::random_doubles;
using analytics::test::random_ints;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// NaN last, then by value: the order sort_values promises ascending.
bool before(double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); }

std::vector<double> with_specials(std::size_t n, std::uint64_t seed) {
    auto xs = random_doubles(n, seed, -10.0, 10.0);
    for (std::size_t i = 0; i < n; i += 7) xs[i] = std::round(xs[i]);  // ties
    for (std::size_t i = 3; i < n; i += 11) xs[i] = kNan;
    if (n > 5) xs[5] = kInf, xs[n - 1] = -kInf, xs[n / 2] = -0.0;
    return xs;
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TEST_CASE("sort and argsort order numbers either way, with NaN first or last", "[sort]") {
    for (const Direction direction : {Direction::ascending, Direction::descending}) {
        for (const NanPlace nan : {NanPlace::first, NanPlace::last}) {
            // Numbers in the direction asked, ties in input order; NaN rows
            // all before or all after them, in input order too.
            const auto expected_order = [&](double a, double b) {
                if (std::isnan(a) || std::isnan(b)) {
                    return !std::isnan(a) ? nan == NanPlace::last : !std::isnan(b) && nan == NanPlace::first;
                }
                return direction == Direction::ascending ? a < b : b < a;
            };
            for (std::size_t n : {0, 1, 2, 17, 1000, 4099}) {
                const auto xs = with_specials(n, n + 1);
                std::vector<std::int64_t> expected(n);
                std::iota(expected.begin(), expected.end(), 0);
                std::stable_sort(expected.begin(), expected.end(),
                                 [&](auto a, auto b) { return expected_order(xs[a], xs[b]); });

                std::vector<std::int64_t> positions(n);
                argsort(xs, direction, nan, positions);
                CHECK(positions == expected);

                auto sorted = xs;
                sort_values(sorted, direction, nan);
                for (std::size_t i = 0; i < n; ++i) CHECK(same(sorted[i], xs[expected[i]]));
            }
        }
    }
}

TEST_CASE("i64 sorts are exact at the limits", "[sort]") {
    auto xs = random_ints(3000, 5, -20, 20);
    xs[0] = std::numeric_limits<std::int64_t>::max();
    xs[1] = std::numeric_limits<std::int64_t>::min();
    xs[2] = (std::int64_t{1} << 60) + 1;
    xs[3] = std::int64_t{1} << 60;
    std::vector<std::int64_t> expected(xs.size());
    std::iota(expected.begin(), expected.end(), 0);
    std::stable_sort(expected.begin(), expected.end(), [&](auto a, auto b) { return xs[a] < xs[b]; });
    std::vector<std::int64_t> positions(xs.size());
    argsort(std::span<const std::int64_t>(xs), Direction::ascending, NanPlace::last, positions);
    CHECK(positions == expected);
    auto sorted = xs;
    sort_values(std::span<std::int64_t>(sorted), Direction::ascending, NanPlace::last);
    CHECK(std::is_sorted(sorted.begin(), sorted.end()));
    CHECK(sorted.front() == xs[1]);
    CHECK(sorted.back() == xs[0]);
}

TEST_CASE("search_sorted agrees with a linear scan, NaN and mixed types included", "[sort]") {
    auto xs = with_specials(500, 8);
    sort_values(xs, Direction::ascending, NanPlace::last);
    for (double needle : {-kInf, -10.5, -3.0, 0.0, -0.0, 2.0, 9.99, kInf, kNan}) {
        const auto left = std::count_if(xs.begin(), xs.end(), [&](double x) { return before(x, needle); });
        const auto right = std::count_if(xs.begin(), xs.end(), [&](double x) { return !before(needle, x); });
        INFO("needle " << needle);
        CHECK(search_sorted(std::span<const double>(xs), needle, Side::left) == static_cast<std::size_t>(left));
        CHECK(search_sorted(std::span<const double>(xs), needle, Side::right) == static_cast<std::size_t>(right));
    }
    const std::int64_t big = (std::int64_t{1} << 60) + 1;
    const std::vector<std::int64_t> ints = {-5, 2, 2, 2, big - 1, big, big + 1};
    const std::span<const std::int64_t> view(ints);
    CHECK(search_sorted(view, std::int64_t{2}, Side::left) == 1);
    CHECK(search_sorted(view, std::int64_t{2}, Side::right) == 4);
    CHECK(search_sorted(view, big, Side::left) == 5);
    CHECK(search_sorted(view, 2.5, Side::left) == 4);
    CHECK(search_sorted(view, 2.0, Side::right) == 4);
    CHECK(search_sorted(view, std::ldexp(1.0, 60), Side::left) == 4);  // 2^60 is big - 1 exactly
    CHECK(search_sorted(view, kNan, Side::left) == ints.size());
    CHECK(search_sorted(view, -kInf, Side::right) == 0);
    const std::vector<double> floats = {1.0, std::ldexp(1.0, 60), kNan};
    CHECK(search_sorted(std::span<const double>(floats), big, Side::left) == 2);
    CHECK(search_sorted(std::span<const double>(floats), std::int64_t{1} << 60, Side::right) == 2);
    CHECK(search_sorted(std::span<const double>(), 1.0, Side::left) == 0);
}
