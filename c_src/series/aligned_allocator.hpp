// An allocator handing out 64-byte aligned memory (a cache line, and the
// widest SIMD load), so columns can live in plain std::vectors.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

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

    // Default-initialise instead of zero-filling: every column is written in
    // full right after it is sized, and a second pass over fresh memory would
    // double the cost of from_binary and concat.
    template <typename U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }

    template <typename U>
    bool operator==(const AlignedAllocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace analytics::series
