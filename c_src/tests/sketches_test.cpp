#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "../kernels/sketches.hpp"
#include "test_data.hpp"

using namespace analytics::kernels;
using analytics::test::random_doubles;
using analytics::test::random_ints;

TEST_CASE("HyperLogLog estimates, merges and round-trips its encoding", "[sketch]") {
    const auto values = random_ints(200'000, 1, 0, 1'000'000'000'000);
    HyperLogLog whole, left, right;
    whole.add(values);
    left.add(std::span(values).first(120'000));
    right.add(std::span(values).subspan(120'000));
    left.merge(right);
    CHECK(left.estimate() == whole.estimate());
    CHECK(std::abs(static_cast<double>(whole.estimate()) - 200'000.0) / 200'000.0 < 0.02);
    CHECK(HyperLogLog::decode(whole.encode()).estimate() == whole.estimate());
}

TEST_CASE("DDSketch quantiles are within alpha, merge, and round-trip", "[sketch]") {
    auto values = random_doubles(100'000, 2, -1000.0, 1000.0);
    DDSketch whole, left, right;
    whole.add(values);
    left.add(std::span<const double>(values).first(30'000));
    right.add(std::span<const double>(values).subspan(30'000));
    left.merge(right);
    std::sort(values.begin(), values.end());
    for (double q : {0.0, 0.1, 0.5, 0.9, 1.0}) {
        const double truth = values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
        INFO("q " << q);
        CHECK(std::abs(whole.quantile(q) - truth) <= 0.01 * std::abs(truth) + 1e-12);
        CHECK(left.quantile(q) == whole.quantile(q));
        CHECK(DDSketch::decode(whole.encode()).quantile(q) == whole.quantile(q));
    }
}

TEST_CASE("corrupt sketch encodings are refused, at every truncation", "[sketch]") {
    HyperLogLog hll;
    DDSketch dd;
    const std::vector<double> some = {1.0, -2.0, 0.0, 1e300};
    hll.add(some);
    dd.add(some);
    const std::string hll_bytes = hll.encode();
    const std::string dd_bytes = dd.encode();
    for (std::size_t n = 0; n < dd_bytes.size(); ++n) {
        CHECK_THROWS_AS(DDSketch::decode(std::string_view(dd_bytes).substr(0, n)), std::invalid_argument);
    }
    for (std::size_t n : {0, 4, 5, 6, 100, 16389}) {
        CHECK_THROWS_AS(HyperLogLog::decode(std::string_view(hll_bytes).substr(0, n)), std::invalid_argument);
    }
    std::string bad_register = hll_bytes;
    bad_register[10] = static_cast<char>(200);
    CHECK_THROWS_WITH(HyperLogLog::decode(bad_register), Catch::Contains("a register holds 200"));
    std::string far_bucket = dd_bytes;
    // First bucket index sits after magic, version, alpha, 4 counts, nan flag, min, max and the bucket count.
    const std::size_t index_at = 4 + 1 + 8 + 32 + 1 + 16 + 4;
    far_bucket[index_at + 3] = 0x40;
    CHECK_THROWS_WITH(DDSketch::decode(far_bucket), Catch::Contains("a bucket index is out of range"));
}
