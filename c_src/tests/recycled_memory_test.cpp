#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "../kernels/recycled_memory.hpp"

using namespace analytics::kernels;

// The pool is process-wide: each test starts from an empty one.
TEST_CASE("a freed buffer of 64 KiB or more is handed out again, warm", "[memory]") {
    release_retained();
    const std::size_t bytes = 1'000'000;
    void* first = acquire_buffer(bytes);
    REQUIRE(reinterpret_cast<std::uintptr_t>(first) % 64 == 0);
    std::memset(first, 1, bytes);
    release_buffer(first, bytes);
    REQUIRE(retained_bytes() >= static_cast<std::int64_t>(bytes));
    // Any size of the same class gets it back.
    void* again = acquire_buffer(bytes - 1000);
    REQUIRE(again == first);
    REQUIRE(retained_bytes() == 0);
    release_buffer(again, bytes - 1000);
    REQUIRE(release_retained() >= bytes);
    REQUIRE(retained_bytes() == 0);
}

TEST_CASE("small buffers are not kept, and the pool stays under its bound", "[memory]") {
    release_retained();
    void* small = acquire_buffer(1000);
    release_buffer(small, 1000);
    REQUIRE(retained_bytes() == 0);

    const std::size_t bytes = std::size_t{8} << 20;  // huge-page mapped
    std::vector<void*> buffers;
    for (std::size_t i = 0; i < 2 * kMaxRetainedBytes / bytes; ++i) {
        buffers.push_back(acquire_buffer(bytes));
        REQUIRE(reinterpret_cast<std::uintptr_t>(buffers.back()) % 64 == 0);
        std::memset(buffers.back(), static_cast<int>(i), bytes);
    }
    for (void* b : buffers) release_buffer(b, bytes);
    const std::int64_t kept = retained_bytes();
    REQUIRE(kept <= static_cast<std::int64_t>(kMaxRetainedBytes));
    REQUIRE(kept >= static_cast<std::int64_t>(kMaxRetainedBytes - bytes));
    REQUIRE(release_retained() == static_cast<std::size_t>(kept));
    REQUIRE(retained_bytes() == 0);
}

TEST_CASE("threads share the pool without losing or doubling a buffer", "[memory]") {
    release_retained();
    constexpr int kThreads = 8;
    constexpr int kRounds = 200;
    std::vector<std::thread> threads;
    std::vector<int> failures(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t, &failures] {
            for (int round = 0; round < kRounds; ++round) {
                const std::size_t count = 10'000 + static_cast<std::size_t>((t * 7919 + round * 104729) % 300'000);
                ScratchArray<std::int64_t> scratch(count);
                for (std::size_t i = 0; i < count; ++i) scratch[i] = t * 1'000'000'007LL + static_cast<std::int64_t>(i);
                std::this_thread::yield();
                for (std::size_t i = 0; i < count; ++i) {
                    if (scratch[i] != t * 1'000'000'007LL + static_cast<std::int64_t>(i)) ++failures[t];
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (int f : failures) REQUIRE(f == 0);
    REQUIRE(retained_bytes() <= static_cast<std::int64_t>(kMaxRetainedBytes));
    release_retained();
    REQUIRE(retained_bytes() == 0);
}
