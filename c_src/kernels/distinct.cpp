#include "distinct.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "hash_mix.hpp"
#include "recycled_memory.hpp"

namespace analytics::kernels {
namespace {

// Open addressing with linear probing over 64-bit keys. Key 0 marks an empty
// slot, so the key 0 itself is tracked by a flag.
class KeySet {
public:
    explicit KeySet(std::size_t expected) : slots_(std::bit_ceil(expected * 2 + 16)) {
        std::fill_n(slots_.data(), slots_.size(), std::uint64_t{0});
    }

    void insert(std::uint64_t key) {
        if (key == 0) {
            has_zero_ = true;
            return;
        }
        if ((size_ + 1) * 2 > slots_.size()) grow();
        place(key);
    }

    std::size_t size() const { return size_ + (has_zero_ ? 1 : 0); }

private:
    void place(std::uint64_t key) {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
            if (slots_[i] == key) return;
            if (slots_[i] == 0) {
                slots_[i] = key;
                ++size_;
                return;
            }
        }
    }

    void grow() {
        ScratchArray<std::uint64_t> old(slots_.size() * 2);
        std::fill_n(old.data(), old.size(), std::uint64_t{0});
        old.swap(slots_);
        size_ = 0;
        for (std::size_t i = 0; i < old.size(); ++i) {
            if (old[i] != 0) place(old[i]);
        }
    }

    // Recycled memory: a table grown to millions of keys is fresh pages otherwise.
    ScratchArray<std::uint64_t> slots_;
    std::size_t size_ = 0;
    bool has_zero_ = false;
};

// Start small: a column with few distinct values must not pay for a table
// sized to its length.
constexpr std::size_t kInitialExpected = 1024;

template <typename T, typename ToKey>
std::size_t count_keys(std::span<const T> data, ToKey to_key) {
    KeySet set(data.size() < kInitialExpected ? data.size() : kInitialExpected);
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    for (std::size_t i = 0; i < data.size(); ++i) {
        T value;
        std::memcpy(&value, bytes + i * sizeof(T), sizeof(T));
        set.insert(to_key(value));
    }
    return set.size();
}

}  // namespace

std::size_t n_distinct(std::span<const double> data) {
    return count_keys(data, [](double x) {
        if (std::isnan(x)) x = std::numeric_limits<double>::quiet_NaN();
        if (x == 0.0) x = 0.0;
        return std::bit_cast<std::uint64_t>(x);
    });
}

std::size_t n_distinct(std::span<const std::int64_t> data) {
    return count_keys(data, [](std::int64_t x) { return static_cast<std::uint64_t>(x); });
}

}  // namespace analytics::kernels
