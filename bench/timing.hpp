// Timing shared by the C++ benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace analytics::bench {

// Median seconds per call, each of 7 samples repeating the call for >= 20 ms,
// so noise on a shared machine shows as spread rather than a wrong ratio.
inline double median_seconds(const std::function<void()>& call) {
    std::size_t reps = 1;
    for (;;) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < reps; ++i) call();
        if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > 0.02) break;
        reps *= 2;
    }
    std::vector<double> samples;
    for (int s = 0; s < 7; ++s) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < reps; ++i) call();
        samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(reps));
    }
    std::nth_element(samples.begin(), samples.begin() + 3, samples.end());
    return samples[3];
}

}  // namespace analytics::bench
