// group_reduce against the loop anyone would write in C++: a
// std::unordered_map from key to running sum and count, then sorted keys.
// Ratio > 1 means group_reduce is faster. In one run, same data.
#include <algorithm>
#include <cstdio>
#include <random>
#include <unordered_map>
#include <vector>

#include "../c_src/kernels/group_reduce.hpp"
#include "timing.hpp"

namespace {

using namespace analytics::kernels;
using analytics::bench::median_seconds;

volatile std::size_t sink;

std::size_t unordered_map_loop(const std::vector<std::int64_t>& keys, const std::vector<double>& values) {
    struct Acc {
        double sum = 0.0;
        std::int64_t count = 0;
    };
    std::unordered_map<std::int64_t, Acc> groups;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        Acc& acc = groups[keys[i]];
        acc.sum += values[i];
        ++acc.count;
    }
    std::vector<std::pair<std::int64_t, Acc>> sorted(groups.begin(), groups.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return sorted.size();
}

}  // namespace

int main() {
    std::printf("group_reduce [sum, count] vs std::unordered_map loop, ratio = loop / group_reduce\n");
    std::printf("%10s %10s %16s %12s %9s\n", "rows", "groups", "group_reduce ms", "loop ms", "ratio");
    const std::vector<Reducer> reducers = {{ReducerKind::sum}, {ReducerKind::count}};
    for (auto [rows, groups] : {std::pair<std::size_t, std::int64_t>{1'000'000, 100}, {1'000'000, 100'000},
                                {4'000'000, 1'000'000}}) {
        std::mt19937_64 rng(rows + static_cast<std::size_t>(groups));
        std::uniform_int_distribution<std::int64_t> key(0, groups - 1);
        std::uniform_real_distribution<double> value(0.0, 1.0);
        std::vector<std::int64_t> keys(rows);
        std::vector<double> values(rows);
        for (std::size_t i = 0; i < rows; ++i) keys[i] = key(rng) * 7919, values[i] = value(rng);
        const double ours = median_seconds([&] { sink = group_reduce(keys, std::span<const double>(values), reducers).keys.size(); });
        const double loop = median_seconds([&] { sink = unordered_map_loop(keys, values); });
        std::printf("%10zu %10lld %16.2f %12.2f %9.2f\n", rows, static_cast<long long>(groups), ours * 1e3, loop * 1e3,
                    loop / ours);
    }
}
