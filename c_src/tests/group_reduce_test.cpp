#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "../kernels/group_reduce.hpp"
#include "test_data.hpp"

using namespace analytics::kernels;
using analytics::test::Misaligned;
using analytics::test::random_doubles;
using analytics::test::random_ints;

TEST_CASE("group_reduce equals a std::map reference, on misaligned columns", "[group]") {
    for (std::size_t n : {0, 1, 7, 1000, 20000}) {
        const auto keys = random_ints(n, n + 1, -50, 50);
        const auto values = random_doubles(n, n + 2);
        std::map<std::int64_t, std::vector<double>> reference;
        for (std::size_t i = 0; i < n; ++i) reference[keys[i]].push_back(values[i]);
        for (std::size_t misalignment : {0, 3}) {
            const Misaligned<std::int64_t> k(keys, misalignment);
            const Misaligned<double> v(values, misalignment + 1);
            const std::vector<Reducer> reducers = {{ReducerKind::count}, {ReducerKind::sum}, {ReducerKind::quantile, 0.5}};
            const GroupResult got = group_reduce(k.span(), v.span(), reducers);
            REQUIRE(got.keys.size() == reference.size());
            std::size_t row = 0;
            for (const auto& [key, group] : reference) {
                INFO("n " << n << " key " << key);
                CHECK(got.keys[row] == key);
                CHECK(std::get<std::vector<std::int64_t>>(got.columns[0])[row] == static_cast<std::int64_t>(group.size()));
                const auto expected = reduce(std::span<const double>(group), reducers, baseline_table);
                CHECK(std::get<std::vector<double>>(got.columns[1])[row] == Approx(std::get<double>(expected[1])));
                CHECK(std::get<std::vector<double>>(got.columns[2])[row] == std::get<double>(expected[2]));
                ++row;
            }
        }
    }
}

TEST_CASE("bucket starts are floors, and refuse to leave the i64 range", "[group]") {
    const std::vector<std::int64_t> ts = {-61, -60, -1, 0, 59, 60};
    CHECK(bucket_starts(ts, 60) == std::vector<std::int64_t>{-120, -60, -60, 0, 0, 60});
    CHECK_THROWS_WITH(bucket_starts(ts, 0), "bucket width must be a positive integer, got: 0");
    const std::vector<std::int64_t> low = {std::numeric_limits<std::int64_t>::min() + 1};
    CHECK_THROWS_WITH(bucket_starts(low, 10), Catch::Contains("starts outside the i64 range"));
}
