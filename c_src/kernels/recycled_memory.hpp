// Warm memory for columns and temporaries. On the VMs this runs on, the first
// write to freshly mapped memory runs tens of times slower than the second
// (8 MiB fresh: ~50 ms), so buffers of 64 KiB and more are kept when freed,
// by size class and up to a bound, and handed out again; large ones are
// mapped with huge-page advice, which cuts the page faults of a first touch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace analytics::kernels {

// What the pool keeps at most; a buffer that would pass it is freed.
inline constexpr std::size_t kMaxRetainedBytes = std::size_t{64} << 20;

// 64-byte aligned memory of at least `bytes`; throws std::bad_alloc.
void* acquire_buffer(std::size_t bytes);
// Gives back what acquire_buffer(bytes) returned, with the same `bytes`.
void release_buffer(void* buffer, std::size_t bytes) noexcept;

// Bytes kept for reuse now (Analytics.native_counters/0).
std::int64_t retained_bytes() noexcept;
// Frees every kept buffer (Analytics.release_memory/0, and at unload); the
// bytes freed.
std::size_t release_retained() noexcept;

// A temporary array of trivial values from the pool, uninitialised.
template <typename T>
class ScratchArray {
public:
    explicit ScratchArray(std::size_t size)
        : data_(static_cast<T*>(acquire_buffer(size * sizeof(T)))), size_(size) {}
    ~ScratchArray() { release_buffer(data_, size_ * sizeof(T)); }
    ScratchArray(ScratchArray&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    ScratchArray(const ScratchArray&) = delete;
    ScratchArray& operator=(const ScratchArray&) = delete;
    ScratchArray& operator=(ScratchArray&&) = delete;

    void swap(ScratchArray& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }

    T* data() { return data_; }
    std::size_t size() const { return size_; }
    std::span<T> span() { return {data_, size_}; }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }

private:
    T* data_;
    std::size_t size_;
};

}  // namespace analytics::kernels
