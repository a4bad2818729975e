// An allocator handing out 64-byte aligned memory (a cache line, and the
// widest SIMD load), so columns can live in plain std::vectors. Large buffers
// come from, and go back to, the pool of warm memory (recycled_memory.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "../kernels/recycled_memory.hpp"

namespace analytics::series {

inline constexpr std::size_t kColumnAlignment = 64;

// Every buffer this allocator holds, and their bytes: what a leak check
// (Analytics.native_counters/0) watches. Atomics, so no static destructor runs
// while an engine thread may still free a column.
inline std::atomic<std::int64_t> live_column_buffers{0};
inline std::atomic<std::int64_t> live_column_bytes{0};

template <typename T>
struct AlignedAllocator {
    using value_type = T;

    AlignedAllocator() noexcept = default;
    template <typename U>
    AlignedAllocator(const AlignedAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        T* p = static_cast<T*>(kernels::acquire_buffer(n * sizeof(T)));
        live_column_buffers.fetch_add(1, std::memory_order_relaxed);
        live_column_bytes.fetch_add(static_cast<std::int64_t>(n * sizeof(T)), std::memory_order_relaxed);
        return p;
    }
    void deallocate(T* p, std::size_t n) noexcept {
        live_column_buffers.fetch_sub(1, std::memory_order_relaxed);
        live_column_bytes.fetch_sub(static_cast<std::int64_t>(n * sizeof(T)), std::memory_order_relaxed);
        kernels::release_buffer(p, n * sizeof(T));
    }

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
