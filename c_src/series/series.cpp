#include "series.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace analytics::series {

std::string_view dtype_name(Dtype dtype) { return dtype == Dtype::f64 ? "f64" : "i64"; }

Series::Series(ColumnData data)
    : data_(std::make_shared<const ColumnData>(std::move(data))),
      offset_(0),
      length_(std::visit([](const auto& v) { return v.size(); }, *data_)) {}

Series::Series(std::shared_ptr<const ColumnData> data, std::size_t offset, std::size_t length)
    : data_(std::move(data)), offset_(offset), length_(length) {}

Dtype Series::dtype() const { return std::holds_alternative<AlignedVector<double>>(*data_) ? Dtype::f64 : Dtype::i64; }

kernels::ColumnView Series::view() const {
    return std::visit(
        [this](const auto& values) -> kernels::ColumnView {
            return std::span(values).subspan(offset_, length_);
        },
        *data_);
}

std::span<const std::byte> Series::bytes() const {
    return std::visit([](auto values) { return std::as_bytes(values); }, view());
}

Series Series::slice(std::size_t offset, std::size_t length) const {
    if (offset > length_ || length > length_ - offset) {
        throw std::invalid_argument("slice " + std::to_string(offset) + ", " + std::to_string(length) +
                                    " is out of range for a series of size " + std::to_string(length_));
    }
    return Series(data_, offset_ + offset, length);
}

namespace {

template <typename T>
Series concat_as(std::span<const Series> pieces, std::size_t total) {
    AlignedVector<T> values(total);
    std::size_t at = 0;
    for (const Series& piece : pieces) {
        const auto bytes = piece.bytes();
        // memcpy with a null pointer is undefined even for zero bytes.
        if (!bytes.empty()) std::memcpy(values.data() + at, bytes.data(), bytes.size());
        at += piece.size();
    }
    return Series(ColumnData(std::move(values)));
}

}  // namespace

Series Series::concat(std::span<const Series> pieces) {
    if (pieces.empty()) throw std::invalid_argument("concat needs at least one series, got an empty list");
    const Dtype dtype = pieces.front().dtype();
    std::size_t total = 0;
    for (const Series& piece : pieces) {
        if (piece.dtype() != dtype) {
            throw std::invalid_argument("concat needs series of one dtype, got :" + std::string(dtype_name(dtype)) +
                                        " and :" + std::string(dtype_name(piece.dtype())));
        }
        total += piece.size();
    }
    return dtype == Dtype::f64 ? concat_as<double>(pieces, total) : concat_as<std::int64_t>(pieces, total);
}

}  // namespace analytics::series
