#include "dispatch.hpp"

#include <xsimd/xsimd.hpp>

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace analytics::kernels {
namespace {

enum class Level { baseline = 0, avx2 = 1, avx512 = 2 };

Level cpu_level() {
    const auto arch = xsimd::available_architectures();
    if (arch.avx512f) return Level::avx512;
    if (arch.avx2) return Level::avx2;
    return Level::baseline;
}

Level parse_cap(std::string_view cap) {
    if (cap == "baseline") return Level::baseline;
    if (cap == "avx2") return Level::avx2;
    if (cap == "avx512") return Level::avx512;
    throw std::invalid_argument("ANALYTICS_SIMD must be baseline, avx2 or avx512, got: " + std::string(cap));
}

const SimdTable& table_for(Level level) {
    switch (level) {
        case Level::avx512: return avx512_table;
        case Level::avx2: return avx2_table;
        case Level::baseline: break;
    }
    return baseline_table;
}

struct Supported {
    std::array<const SimdTable*, 3> tables{};
    std::size_t count = 0;
};

Supported find_supported() {
    Supported s;
    const auto top = static_cast<int>(cpu_level());
    for (int level = 0; level <= top; ++level) {
        s.tables[s.count++] = &table_for(static_cast<Level>(level));
    }
    return s;
}

}  // namespace

const SimdTable& simd_for_cap(std::string_view cap) {
    const Level wanted = parse_cap(cap);
    const Level cpu = cpu_level();
    return table_for(wanted < cpu ? wanted : cpu);
}

const SimdTable& active_simd() {
    // Pointers only: no static with a destructor (engine threads may outlive
    // static destruction on OTP 25, which has no halt hook).
    static const SimdTable* const chosen = [] {
        const char* cap = std::getenv("ANALYTICS_SIMD");
        return (cap && *cap) ? &simd_for_cap(cap) : &table_for(cpu_level());
    }();
    return *chosen;
}

std::span<const SimdTable* const> supported_simd() {
    static const Supported supported = find_supported();
    return {supported.tables.data(), supported.count};
}

}  // namespace analytics::kernels
