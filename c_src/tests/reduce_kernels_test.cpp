#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "../kernels/dispatch.hpp"
#include "../kernels/reduce.hpp"
#include "test_data.hpp"

using namespace analytics::kernels;
using analytics::test::Misaligned;
using analytics::test::random_doubles;
using analytics::test::random_ints;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::int64_t kMax64 = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin64 = std::numeric_limits<std::int64_t>::min();

std::vector<std::size_t> edge_sizes() {
    std::vector<std::size_t> sizes;
    for (std::size_t n = 0; n <= 40; ++n) sizes.push_back(n);
    for (std::size_t n : {63, 64, 65, 1023, 1024, 1025, 4099}) sizes.push_back(n);
    return sizes;
}

long double reference_sum(std::span<const double> v) {
    long double s = 0;
    for (double x : v) s += x;
    return s;
}

long double reference_m2(const std::vector<double>& v) {
    const long double mean = reference_sum(v) / static_cast<long double>(v.size());
    long double m2 = 0;
    for (double x : v) m2 += (x - mean) * (x - mean);
    return m2;
}

ReduceValue only(const ColumnView& column, Reducer reducer, const SimdTable& simd = active_simd()) {
    return reduce(column, std::span(&reducer, 1), simd).front();
}

double as_double(const ReduceValue& v) { return std::get<double>(v); }

}  // namespace

TEST_CASE("every SIMD path sums, bounds and measures f64 at every size and misalignment", "[kernels]") {
    for (const SimdTable* simd : supported_simd()) {
        INFO("simd " << simd->name);
        for (std::size_t n : edge_sizes()) {
            const auto values = random_doubles(n, n + 1);
            const long double abs_total = [&] { long double t = 0; for (double x : values) t += std::fabs(x); return t; }();
            for (std::size_t misalignment = 0; misalignment < 64; ++misalignment) {
                INFO("n " << n << " misalignment " << misalignment);
                const Misaligned<double> data(values, misalignment);
                const auto span = data.span();
                const double sum = simd->sum_f64(span.data(), n);
                REQUIRE(std::fabs(sum - static_cast<double>(reference_sum(values))) <= 1e-12 * static_cast<double>(abs_total) + 1e-300);

                const F64Stats stats = simd->stats_f64(span.data(), n, true);
                REQUIRE(stats.count == n);
                REQUIRE_FALSE(stats.has_nan);
                if (n > 0) {
                    REQUIRE(stats.min == *std::min_element(values.begin(), values.end()));
                    REQUIRE(stats.max == *std::max_element(values.begin(), values.end()));
                    const double m2 = static_cast<double>(reference_m2(values));
                    REQUIRE(stats.m2 == Approx(m2).epsilon(1e-10).margin(1e-9));
                }
            }
        }
    }
}

TEST_CASE("every SIMD path sums i64 exactly at every size and misalignment", "[kernels]") {
    for (const SimdTable* simd : supported_simd()) {
        INFO("simd " << simd->name);
        for (std::size_t n : edge_sizes()) {
            const auto values = random_ints(n, n + 7, kMin64, kMax64);
            __int128 expected = 0;
            for (auto x : values) expected += x;
            for (std::size_t misalignment = 0; misalignment < 64; ++misalignment) {
                INFO("n " << n << " misalignment " << misalignment);
                const Misaligned<std::int64_t> data(values, misalignment);
                const I64Stats stats = simd->stats_i64(data.span().data(), n, true);
                REQUIRE(stats.sum == expected);
                if (n > 0) {
                    REQUIRE(stats.min == *std::min_element(values.begin(), values.end()));
                    REQUIRE(stats.max == *std::max_element(values.begin(), values.end()));
                }
            }
        }
    }
}

TEST_CASE("i64 sums at the extremes never wrap", "[kernels]") {
    for (const SimdTable* simd : supported_simd()) {
        INFO("simd " << simd->name);
        for (std::size_t n : {1, 7, 1000, 4099}) {
            const std::vector<std::int64_t> highs(n, kMax64), lows(n, kMin64);
            REQUIRE(simd->stats_i64(highs.data(), n, true).sum == static_cast<__int128>(kMax64) * static_cast<__int128>(n));
            REQUIRE(simd->stats_i64(lows.data(), n, true).sum == static_cast<__int128>(kMin64) * static_cast<__int128>(n));
            REQUIRE(simd->stats_i64(lows.data(), n, true).min == kMin64);
            REQUIRE(simd->stats_i64(highs.data(), n, true).max == kMax64);
        }
    }
}

TEST_CASE("NaN anywhere propagates and infinities order correctly", "[kernels]") {
    for (const SimdTable* simd : supported_simd()) {
        INFO("simd " << simd->name);
        for (std::size_t n = 1; n <= 37; ++n) {
            for (std::size_t at = 0; at < n; ++at) {
                auto values = random_doubles(n, n * 31 + at);
                values[at] = kNan;
                const F64Stats stats = simd->stats_f64(values.data(), n, true);
                REQUIRE(stats.has_nan);
                REQUIRE(std::isnan(stats.sum));
                REQUIRE(std::isnan(simd->sum_f64(values.data(), n)));
                REQUIRE(std::isnan(as_double(only(std::span<const double>(values), {ReducerKind::min}, *simd))));
                REQUIRE(std::get<std::int64_t>(only(std::span<const double>(values), {ReducerKind::argmax}, *simd)) ==
                        static_cast<std::int64_t>(at));
            }
        }
        const std::vector<double> inf_values = {1.0, kInf, -kInf, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0};
        const F64Stats stats = simd->stats_f64(inf_values.data(), inf_values.size(), false);
        REQUIRE(stats.min == -kInf);
        REQUIRE(stats.max == kInf);
        REQUIRE_FALSE(stats.has_nan);
        REQUIRE(std::isnan(stats.sum));
    }
}

TEST_CASE("product of f64 matches a scalar product", "[kernels]") {
    for (const SimdTable* simd : supported_simd()) {
        for (std::size_t n : edge_sizes()) {
            const auto values = random_doubles(n, n + 3, 0.5, 1.5);
            long double expected = 1;
            for (double x : values) expected *= x;
            REQUIRE(simd->product_f64(values.data(), n) == Approx(static_cast<double>(expected)).epsilon(1e-12));
        }
    }
}

TEST_CASE("empty input gives the contract's identities and nils", "[reduce]") {
    const std::vector<Reducer> all = {
        {ReducerKind::sum},     {ReducerKind::count},    {ReducerKind::min},        {ReducerKind::max},
        {ReducerKind::mean},    {ReducerKind::variance, 1}, {ReducerKind::standard_deviation, 0},
        {ReducerKind::product}, {ReducerKind::argmin},   {ReducerKind::argmax},     {ReducerKind::quantile, 0.5},
        {ReducerKind::n_distinct}};
    const auto f = reduce(std::span<const double>(), all, active_simd());
    REQUIRE(std::get<double>(f[0]) == 0.0);
    REQUIRE(std::get<std::int64_t>(f[1]) == 0);
    for (std::size_t i : {2, 3, 4, 5, 6, 8, 9, 10}) REQUIRE(std::holds_alternative<std::monostate>(f[i]));
    REQUIRE(std::get<double>(f[7]) == 1.0);
    REQUIRE(std::get<std::int64_t>(f[11]) == 0);

    const auto i = reduce(std::span<const std::int64_t>(), all, active_simd());
    REQUIRE(std::get<__int128>(i[0]) == 0);
    REQUIRE(std::get<__int128>(i[7]) == 1);
    REQUIRE(std::holds_alternative<std::monostate>(i[2]));
}

TEST_CASE("variance is stable far from zero and honours ddof", "[reduce]") {
    std::vector<double> values = random_doubles(100'000, 5, -1.0, 1.0);
    for (auto& x : values) x += 1e9;
    const double expected = static_cast<double>(reference_m2(values)) / (values.size() - 1);
    REQUIRE(as_double(only(std::span<const double>(values), {ReducerKind::variance, 1})) ==
            Approx(expected).epsilon(1e-6));

    const std::vector<std::int64_t> one = {42};
    REQUIRE(std::holds_alternative<std::monostate>(only(std::span<const std::int64_t>(one), {ReducerKind::variance, 1})));
    REQUIRE(as_double(only(std::span<const std::int64_t>(one), {ReducerKind::variance, 0})) == 0.0);
    const std::vector<std::int64_t> ints = {1, 2, 3, 4};
    REQUIRE(as_double(only(std::span<const std::int64_t>(ints), {ReducerKind::standard_deviation, 0})) ==
            Approx(std::sqrt(1.25)));
    REQUIRE_THROWS_AS(only(std::span<const std::int64_t>(ints), {ReducerKind::variance, -1}), std::invalid_argument);
    REQUIRE_THROWS_AS(only(std::span<const std::int64_t>(ints), {ReducerKind::variance, 0.5}), std::invalid_argument);
}

TEST_CASE("quantiles interpolate linearly between closest ranks", "[reduce]") {
    for (std::size_t n : {1, 2, 3, 10, 101, 5000}) {
        auto values = random_doubles(n, n);
        auto sorted = values;
        std::sort(sorted.begin(), sorted.end());
        for (double q : {0.0, 0.1, 0.25, 0.5, 0.9, 0.999, 1.0}) {
            const double position = q * (n - 1);
            const auto lo = static_cast<std::size_t>(std::floor(position));
            const auto hi = std::min(lo + 1, n - 1);
            const double expected = sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
            INFO("n " << n << " q " << q);
            REQUIRE(as_double(only(std::span<const double>(values), {ReducerKind::quantile, q})) ==
                    Approx(expected).epsilon(1e-12));
        }
    }
    const std::vector<Reducer> several = {{ReducerKind::quantile, 0.9}, {ReducerKind::quantile, 0.1},
                                          {ReducerKind::quantile, 0.5}};
    const std::vector<std::int64_t> ints = {5, 1, 4, 2, 3};
    const auto got = reduce(std::span<const std::int64_t>(ints), several, active_simd());
    REQUIRE(std::get<double>(got[0]) == Approx(4.6));
    REQUIRE(std::get<double>(got[1]) == Approx(1.4));
    REQUIRE(std::get<double>(got[2]) == 3.0);
    const std::vector<double> with_nan = {1.0, kNan, 3.0};
    REQUIRE(std::isnan(as_double(only(std::span<const double>(with_nan), {ReducerKind::quantile, 0.5}))));
    REQUIRE_THROWS_AS(only(std::span<const double>(with_nan), {ReducerKind::quantile, 1.5}), std::invalid_argument);
}

TEST_CASE("quantiles near the limits of f64 never overflow", "[reduce]") {
    constexpr double kMaxF = std::numeric_limits<double>::max();
    auto quantile = [](const std::vector<double>& values, double q) {
        return as_double(only(std::span<const double>(values), {ReducerKind::quantile, q}));
    };
    const std::vector<double> opposite = {1.0e308, -1.0e308};
    REQUIRE(quantile(opposite, 0.5) == 0.0);
    REQUIRE(quantile(opposite, 0.25) == Approx(-5.0e307));
    REQUIRE(quantile(opposite, 0.99) == Approx(9.8e307));
    REQUIRE(quantile(opposite, 0.0) == -1.0e308);
    REQUIRE(quantile(opposite, 1.0) == 1.0e308);

    const std::vector<double> widest = {kMaxF, -kMaxF};
    REQUIRE(quantile(widest, 0.5) == 0.0);
    REQUIRE(quantile(widest, 0.75) == Approx(kMaxF / 2));
    const std::vector<double> same = {kMaxF, kMaxF};
    REQUIRE(quantile(same, 0.3) == kMaxF);
    const std::vector<double> near_top = {kMaxF, kMaxF / 2};
    REQUIRE(quantile(near_top, 0.5) == Approx(0.75 * kMaxF));

    // Monotonic in q however far apart the neighbours are.
    double previous = -kInf;
    for (int i = 0; i <= 1000; ++i) {
        const double value = quantile(widest, i / 1000.0);
        REQUIRE(std::isfinite(value));
        REQUIRE(value >= previous);
        previous = value;
    }

    // Infinities: one of them at an end gives that infinity, both give NaN,
    // two of one sign give that infinity; NaN anywhere still wins.
    REQUIRE(quantile({1.0, kInf}, 0.5) == kInf);
    REQUIRE(quantile({-kInf, 1.0}, 0.5) == -kInf);
    REQUIRE(std::isnan(quantile({-kInf, kInf}, 0.5)));
    REQUIRE(quantile({kInf, kInf}, 0.5) == kInf);
    REQUIRE(std::isnan(quantile({kMaxF, -kMaxF, kNan}, 0.5)));

    // i64 columns at both limits give an f64 between them.
    const std::vector<std::int64_t> ints = {kMax64, kMin64};
    REQUIRE(as_double(only(std::span<const std::int64_t>(ints), {ReducerKind::quantile, 0.5})) == 0.0);
    REQUIRE(as_double(only(std::span<const std::int64_t>(ints), {ReducerKind::quantile, 0.75})) ==
            Approx(static_cast<double>(kMax64) / 2));
}

TEST_CASE("n_distinct counts equal values once", "[reduce]") {
    const auto ints = random_ints(20'000, 9, -500, 500);
    const std::set<std::int64_t> expected(ints.begin(), ints.end());
    REQUIRE(std::get<std::int64_t>(only(std::span<const std::int64_t>(ints), {ReducerKind::n_distinct})) ==
            static_cast<std::int64_t>(expected.size()));
    const std::vector<std::int64_t> with_zero = {0, 0, 1, kMin64, kMax64};
    REQUIRE(std::get<std::int64_t>(only(std::span<const std::int64_t>(with_zero), {ReducerKind::n_distinct})) == 4);
    const std::vector<double> floats = {0.0, -0.0, kNan, -kNan, kInf, 1.5, 1.5};
    REQUIRE(std::get<std::int64_t>(only(std::span<const double>(floats), {ReducerKind::n_distinct})) == 4);
}

TEST_CASE("argmin and argmax give the first position", "[reduce]") {
    const std::vector<std::int64_t> ints = {3, 1, 7, 1, 7};
    REQUIRE(std::get<std::int64_t>(only(std::span<const std::int64_t>(ints), {ReducerKind::argmin})) == 1);
    REQUIRE(std::get<std::int64_t>(only(std::span<const std::int64_t>(ints), {ReducerKind::argmax})) == 2);
}

TEST_CASE("i64 products are exact and refuse to overflow 128 bits", "[reduce]") {
    const std::vector<std::int64_t> big = {kMax64, kMax64};
    REQUIRE(std::get<__int128>(only(std::span<const std::int64_t>(big), {ReducerKind::product})) ==
            static_cast<__int128>(kMax64) * kMax64);
    const std::vector<std::int64_t> huge = {kMax64, kMax64, kMax64};
    REQUIRE_THROWS_AS(only(std::span<const std::int64_t>(huge), {ReducerKind::product}), std::invalid_argument);
    const std::vector<std::int64_t> with_zero = {kMax64, kMax64, kMax64, 0};
    REQUIRE(std::get<__int128>(only(std::span<const std::int64_t>(with_zero), {ReducerKind::product})) == 0);
}

TEST_CASE("the SIMD cap picks a path the CPU has", "[dispatch]") {
    REQUIRE(std::string(simd_for_cap("baseline").name) == "baseline");
    REQUIRE(supported_simd().front() == &baseline_table);
    REQUIRE(&simd_for_cap("avx512") == supported_simd().back());
    REQUIRE_THROWS_AS(simd_for_cap("sse9"), std::invalid_argument);
}
