#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "../kernels/dispatch.hpp"
#include "../kernels/reduce.hpp"
#include "../kernels/stream_reduce.hpp"
#include "test_data.hpp"

using namespace analytics::kernels;
using analytics::test::random_doubles;
using analytics::test::random_ints;

namespace {

const std::vector<Reducer> kStreamable = {
    {ReducerKind::sum},  {ReducerKind::count},    {ReducerKind::mean},
    {ReducerKind::min},  {ReducerKind::max},      {ReducerKind::variance, 1.0},
    {ReducerKind::standard_deviation, 0.0},
};

// Each reducer alone (a sum alone takes the fold, not the moments kernel),
// then all of them at once.
std::vector<std::vector<Reducer>> reducer_sets() {
    std::vector<std::vector<Reducer>> sets;
    for (const Reducer& r : kStreamable) sets.push_back({r});
    sets.push_back(kStreamable);
    return sets;
}

template <typename T>
std::vector<ReduceValue> streamed(const std::vector<T>& values, std::span<const Reducer> reducers,
                                  const SimdTable& simd) {
    StreamReduce stream(reducers, simd);
    for (std::size_t start = 0; start < values.size(); start += StreamReduce::kBlock) {
        const std::size_t len = std::min(StreamReduce::kBlock, values.size() - start);
        stream.add(std::span<const T>(values.data() + start, len));
    }
    return stream.finish();
}

// Bit for bit: NaN equals NaN here, and 0.0 is told from -0.0.
bool same(const ReduceValue& a, const ReduceValue& b) {
    if (a.index() != b.index()) return false;
    if (const double* x = std::get_if<double>(&a)) {
        const double y = std::get<double>(b);
        return std::memcmp(x, &y, sizeof(double)) == 0 || (*x != *x && y != y);
    }
    return a == b;
}

// An empty stream has no dtype and answers as an empty :i64 column does
// (an empty list is :i64), so it is compared with one.
template <typename T>
void require_same_as_column(const std::vector<T>& values) {
    if (values.empty() && std::is_same_v<T, double>) return require_same_as_column(std::vector<std::int64_t>{});
    for (const SimdTable* simd : supported_simd()) {
        for (const auto& reducers : reducer_sets()) {
            INFO("simd " << simd->name << " n " << values.size() << " reducers " << reducers.size()
                         << " first " << static_cast<int>(reducers.front().kind));
            const auto expected = reduce(ColumnView(std::span<const T>(values)), reducers, *simd);
            const auto got = streamed(values, reducers, *simd);
            REQUIRE(got.size() == expected.size());
            for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(same(got[i], expected[i]));
        }
    }
}

std::vector<std::size_t> sizes() {
    return {0, 1, 2, 31, 32, 33, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 10'000};
}

}  // namespace

TEST_CASE("streamed blocks reduce f64 exactly as the whole column does", "[stream]") {
    for (std::size_t n : sizes()) {
        require_same_as_column(random_doubles(n, n + 7));
        // Magnitudes far apart, where any change of summation order shows.
        auto spread = random_doubles(n, n + 8, -1e-3, 1e-3);
        for (std::size_t i = 0; i < n; i += 97) spread[i] = 1e15 * static_cast<double>(i % 5);
        require_same_as_column(spread);
    }
}

TEST_CASE("streamed blocks carry NaN and infinities as the column does", "[stream]") {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    constexpr double inf = std::numeric_limits<double>::infinity();
    for (std::size_t at : {std::size_t{0}, std::size_t{2047}, std::size_t{2048}, std::size_t{4999}}) {
        auto values = random_doubles(5000, at);
        values[at] = nan;
        require_same_as_column(values);
        values[at] = inf;
        require_same_as_column(values);
        values[at / 2] = -inf;
        require_same_as_column(values);
    }
}

TEST_CASE("streamed blocks reduce i64 exactly, past the 64-bit range", "[stream]") {
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
    for (std::size_t n : sizes()) {
        require_same_as_column(random_ints(n, n + 3, -1'000'000, 1'000'000));
        require_same_as_column(std::vector<std::int64_t>(n, max));
        require_same_as_column(std::vector<std::int64_t>(n, min));
    }
    const auto big = streamed(std::vector<std::int64_t>(4097, max), std::vector<Reducer>{{ReducerKind::sum}}, active_simd());
    REQUIRE(std::get<__int128>(big[0]) == static_cast<__int128>(max) * 4097);
}

TEST_CASE("only block-friendly reducers stream; parameters are checked at the end", "[stream]") {
    REQUIRE(StreamReduce::supports(kStreamable));
    for (ReducerKind kind : {ReducerKind::quantile, ReducerKind::n_distinct, ReducerKind::product, ReducerKind::argmin}) {
        const std::vector<Reducer> with = {{ReducerKind::sum}, {kind, 0.5}};
        REQUIRE_FALSE(StreamReduce::supports(with));
    }
    const std::vector<Reducer> bad = {{ReducerKind::variance, -1.0}};
    StreamReduce stream(bad, active_simd());
    REQUIRE_THROWS_WITH(stream.finish(), Catch::Contains("ddof must be a non-negative integer"));
}
