// Immutable typed columns and O(1) slices that share them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "../kernels/column_view.hpp"
#include "aligned_allocator.hpp"

namespace analytics::series {

enum class Dtype { f64, i64 };

std::string_view dtype_name(Dtype dtype);

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

// The storage of one column; never changed once a Series holds it.
using ColumnData = std::variant<AlignedVector<double>, AlignedVector<std::int64_t>>;

// A window [offset, offset + length) onto shared, immutable column data.
class Series {
public:
    explicit Series(ColumnData data);

    Dtype dtype() const;
    std::size_t size() const { return length_; }
    kernels::ColumnView view() const;
    // The window's bytes, native-endian.
    std::span<const std::byte> bytes() const;

    // Throws std::invalid_argument when the window leaves this series.
    Series slice(std::size_t offset, std::size_t length) const;

    // Throws std::invalid_argument for an empty list or mixed dtypes.
    static Series concat(std::span<const Series> pieces);

private:
    Series(std::shared_ptr<const ColumnData> data, std::size_t offset, std::size_t length);

    std::shared_ptr<const ColumnData> data_;
    std::size_t offset_;
    std::size_t length_;
};

}  // namespace analytics::series
