// Helpers shared by the Catch2 tests: misaligned copies and seeded data.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

namespace analytics::test {

// Owns a buffer holding `values` starting `misalignment` bytes past a 64-byte
// boundary, to exercise every load alignment the kernels may see.
template <typename T>
class Misaligned {
public:
    Misaligned(const std::vector<T>& values, std::size_t misalignment)
        : buffer_(values.size() * sizeof(T) + 128), size_(values.size()) {
        auto address = reinterpret_cast<std::uintptr_t>(buffer_.data());
        start_ = buffer_.data() + ((64 - address % 64) % 64) + misalignment;
        if (!values.empty()) std::memcpy(start_, values.data(), values.size() * sizeof(T));
    }
    std::span<const T> span() const { return {reinterpret_cast<const T*>(start_), size_}; }

private:
    std::vector<unsigned char> buffer_;
    unsigned char* start_;
    std::size_t size_;
};

inline std::vector<double> random_doubles(std::size_t n, std::uint64_t seed, double lo = -1000.0, double hi = 1000.0) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<double> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

inline std::vector<std::int64_t> random_ints(std::size_t n, std::uint64_t seed, std::int64_t lo, std::int64_t hi) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::int64_t> dist(lo, hi);
    std::vector<std::int64_t> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

}  // namespace analytics::test
