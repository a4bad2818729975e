// An allocator handing out 64-byte aligned memory (a cache line, and the
// widest SIMD load), so columns can live in plain std::vectors.
#pragma once

#include <cstddef>
#include <new>

namespace analytics::series {

inline constexpr std::size_t kColumnAlignment = 64;

template <typename T>
struct AlignedAllocator {
    using value_type = T;

    AlignedAllocator() noexcept = default;
    template <typename U>
    AlignedAllocator(const AlignedAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kColumnAlignment}));
    }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{kColumnAlignment}); }

    template <typename U>
    bool operator==(const AlignedAllocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace analytics::series
