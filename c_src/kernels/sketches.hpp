// Mergeable approximate sketches with a versioned, portable byte encoding
// (little-endian, magic + version header), so states can cross nodes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace analytics::kernels {

// HyperLogLog over 64-bit hashes: 2^14 one-byte registers, about 0.8%
// standard error, with linear counting for small cardinalities. Values are
// hashed as reduce's n_distinct counts them (-0.0 is 0.0, NaNs are one value).
class HyperLogLog {
public:
    static constexpr unsigned kPrecision = 14;

    HyperLogLog();
    void add(std::span<const double> values);
    void add(std::span<const std::int64_t> values);
    void merge(const HyperLogLog& other);
    // The estimated number of distinct values, rounded.
    std::int64_t estimate() const;

    std::string encode() const;
    // Throws std::invalid_argument for bytes that are not an encoded sketch.
    static HyperLogLog decode(std::string_view bytes);

private:
    void add_hash(std::uint64_t hash);
    std::vector<std::uint8_t> registers_;
};

// DDSketch (Masson et al., 2019): logarithmic buckets give every quantile
// within a relative error `alpha` of a true value of that rank. NaN makes
// every quantile NaN, as in reduce; infinities and zero have their own counts.
class DDSketch {
public:
    static constexpr double kDefaultAlpha = 0.01;

    explicit DDSketch(double alpha = kDefaultAlpha);
    void add(std::span<const double> values);
    void add(std::span<const std::int64_t> values);
    // Throws std::invalid_argument when the relative accuracies differ.
    void merge(const DDSketch& other);
    std::uint64_t count() const { return count_; }
    // The lower quantile at rank q * (count - 1), clamped to the seen range;
    // count() must be above zero.
    double quantile(double q) const;

    std::string encode() const;
    static DDSketch decode(std::string_view bytes);

private:
    // Counts by bucket index, offset so that index `offset_` is element 0.
    struct Store {
        std::int32_t offset = 0;
        std::vector<std::uint64_t> counts;
        void add(std::int32_t index, std::uint64_t n);
        std::uint64_t total() const;
    };

    void add_one(double x);
    std::int32_t index_of(double magnitude) const;
    double value_of(std::int32_t index) const;

    double alpha_;
    double gamma_;
    double log_gamma_;
    std::uint64_t count_ = 0;
    std::uint64_t zeros_ = 0;
    std::uint64_t negative_infinities_ = 0;
    std::uint64_t positive_infinities_ = 0;
    bool has_nan_ = false;
    double min_;
    double max_;
    Store positive_;
    Store negative_;  // by magnitude
};

}  // namespace analytics::kernels
