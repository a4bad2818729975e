// One 64-bit mixing function for every hash table and sketch.
#pragma once

#include <cstdint>

namespace analytics::kernels {

// splitmix64's finaliser: sequential keys spread over the whole table, and
// every input bit affects every output bit (HyperLogLog needs both).
inline std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

}  // namespace analytics::kernels
