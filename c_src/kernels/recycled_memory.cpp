#include "recycled_memory.hpp"

#include <sys/mman.h>

#include <array>
#include <atomic>
#include <bit>
#include <mutex>
#include <new>

namespace analytics::kernels {
namespace {

constexpr std::size_t kAlignment = 64;
constexpr std::size_t kSmallestPooled = std::size_t{64} << 10;
constexpr std::size_t kHugePage = std::size_t{2} << 20;
// Four classes per power of two, so a buffer wastes at most a quarter.
constexpr std::size_t kStepsPerDoubling = 4;
constexpr std::size_t kClasses = 40 * kStepsPerDoubling;

struct SizeClass {
    std::size_t index;
    std::size_t bytes;
};

// Only called for bytes >= kSmallestPooled.
SizeClass size_class(std::size_t bytes) {
    std::size_t power = std::bit_floor(bytes);
    const std::size_t step = power / kStepsPerDoubling;
    std::size_t steps = (bytes + step - 1) / step;  // kStepsPerDoubling .. 2 * kStepsPerDoubling
    if (steps == 2 * kStepsPerDoubling) {
        power *= 2;
        steps = kStepsPerDoubling;
    }
    const auto doubling = static_cast<std::size_t>(std::countr_zero(power) - std::countr_zero(kSmallestPooled));
    return {doubling * kStepsPerDoubling + (steps - kStepsPerDoubling), steps * (power / kStepsPerDoubling)};
}

// A kept buffer's first bytes link it to the next one of its class.
struct FreeBuffer {
    FreeBuffer* next;
};

// Trivially destructible, so nothing runs at exit while a scheduler thread
// may still free a column (DESIGN.md, NIF safety rules).
std::mutex pool_lock;
std::array<FreeBuffer*, kClasses> free_lists{};
std::atomic<std::int64_t> retained{0};
std::size_t retained_locked = 0;  // under pool_lock: what free_lists hold

// Huge buffers come straight from mmap, 2 MiB aligned and advised to use huge
// pages; the rest from the aligned operator new.
void* map_fresh(std::size_t bytes) {
    if (bytes < kHugePage) return ::operator new(bytes, std::align_val_t{kAlignment});
    const std::size_t span = bytes + kHugePage;
    void* mapped = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(mapped);
    const std::uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > start) munmap(mapped, aligned - start);
    const std::uintptr_t end = start + span;
    const std::uintptr_t used_end = aligned + ((bytes + 4095) & ~std::size_t{4095});
    if (end > used_end) munmap(reinterpret_cast<void*>(used_end), end - used_end);
    madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
    return reinterpret_cast<void*>(aligned);
}

void unmap(void* buffer, std::size_t bytes) noexcept {
    if (bytes < kHugePage) {
        ::operator delete(buffer, std::align_val_t{kAlignment});
    } else {
        munmap(buffer, (bytes + 4095) & ~std::size_t{4095});
    }
}

}  // namespace

void* acquire_buffer(std::size_t bytes) {
    if (bytes < kSmallestPooled) return ::operator new(bytes == 0 ? 1 : bytes, std::align_val_t{kAlignment});
    const SizeClass c = size_class(bytes);
    if (c.index >= kClasses) throw std::bad_alloc();
    {
        const std::lock_guard<std::mutex> hold(pool_lock);
        if (FreeBuffer* kept = free_lists[c.index]) {
            free_lists[c.index] = kept->next;
            retained_locked -= c.bytes;
            retained.store(static_cast<std::int64_t>(retained_locked), std::memory_order_relaxed);
            return kept;
        }
    }
    return map_fresh(c.bytes);
}

void release_buffer(void* buffer, std::size_t bytes) noexcept {
    if (buffer == nullptr) return;
    if (bytes < kSmallestPooled) {
        ::operator delete(buffer, std::align_val_t{kAlignment});
        return;
    }
    const SizeClass c = size_class(bytes);
    {
        const std::lock_guard<std::mutex> hold(pool_lock);
        if (retained_locked + c.bytes <= kMaxRetainedBytes) {
            auto* kept = static_cast<FreeBuffer*>(buffer);
            kept->next = free_lists[c.index];
            free_lists[c.index] = kept;
            retained_locked += c.bytes;
            retained.store(static_cast<std::int64_t>(retained_locked), std::memory_order_relaxed);
            return;
        }
    }
    unmap(buffer, c.bytes);
}

std::int64_t retained_bytes() noexcept { return retained.load(std::memory_order_relaxed); }

std::size_t release_retained() noexcept {
    std::array<FreeBuffer*, kClasses> taken{};
    std::size_t freed = 0;
    {
        const std::lock_guard<std::mutex> hold(pool_lock);
        taken = free_lists;
        freed = retained_locked;
        free_lists.fill(nullptr);
        retained_locked = 0;
        retained.store(0, std::memory_order_relaxed);
    }
    for (std::size_t index = 0; index < kClasses; ++index) {
        // Every buffer of a class has that class's size.
        const std::size_t doubling = index / kStepsPerDoubling;
        const std::size_t steps = index % kStepsPerDoubling + kStepsPerDoubling;
        const std::size_t bytes = steps * ((kSmallestPooled << doubling) / kStepsPerDoubling);
        for (FreeBuffer* kept = taken[index]; kept != nullptr;) {
            FreeBuffer* next = kept->next;
            unmap(kept, bytes);
            kept = next;
        }
    }
    return freed;
}

}  // namespace analytics::kernels
