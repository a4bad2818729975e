#include "sketches.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "hash_mix.hpp"

namespace analytics::kernels {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::string_view kHllMagic = "AHLL";
constexpr std::string_view kDdMagic = "ADDS";
// Magnitudes below this share the zero bucket (subnormals would need
// thousands of buckets to tell apart and matter to nobody's quantiles).
constexpr double kMinIndexable = std::numeric_limits<double>::min();

template <typename T>
T load(const T* data, std::size_t i) {
    T x;
    std::memcpy(&x, reinterpret_cast<const unsigned char*>(data) + i * sizeof(T), sizeof(T));
    return x;
}

// Little-endian writer and bounds-checked reader for the encodings.
class Writer {
public:
    explicit Writer(std::string_view magic) : bytes_(magic) { bytes_.push_back(static_cast<char>(kVersion)); }
    template <typename T>
    void put(T value) {
        std::uint64_t bits = 0;
        if constexpr (std::is_floating_point_v<T>) {
            bits = std::bit_cast<std::uint64_t>(value);
        } else {
            bits = static_cast<std::uint64_t>(value);
        }
        for (std::size_t i = 0; i < sizeof(T); ++i) bytes_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    }
    void put_bytes(std::span<const std::uint8_t> bytes) { bytes_.append(bytes.begin(), bytes.end()); }
    std::string take() { return std::move(bytes_); }

private:
    std::string bytes_;
};

class Reader {
public:
    Reader(std::string_view bytes, std::string_view magic, const char* what) : bytes_(bytes), what_(what) {
        if (bytes_.substr(0, magic.size()) != magic) fail("it does not start with " + std::string(magic));
        bytes_.remove_prefix(magic.size());
        const auto version = get<std::uint8_t>();
        if (version != kVersion) fail("version " + std::to_string(version) + " is not " + std::to_string(kVersion));
    }
    template <typename T>
    T get() {
        if (bytes_.size() < sizeof(T)) fail("it is truncated");
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) {
            bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[i])) << (8 * i);
        }
        bytes_.remove_prefix(sizeof(T));
        if constexpr (std::is_floating_point_v<T>) {
            return std::bit_cast<T>(bits);
        } else {
            return static_cast<T>(bits);
        }
    }
    std::size_t remaining() const { return bytes_.size(); }
    void finish() const {
        if (!bytes_.empty()) fail("it has trailing bytes");
    }
    [[noreturn]] void fail(const std::string& why) const {
        throw std::invalid_argument(std::string("not a valid ") + what_ + " state: " + why);
    }

private:
    std::string_view bytes_;
    const char* what_;
};

}  // namespace

// --- HyperLogLog --------------------------------------------------------------

HyperLogLog::HyperLogLog() : registers_(std::size_t{1} << kPrecision, 0) {}

void HyperLogLog::add_hash(std::uint64_t hash) {
    const std::size_t index = hash >> (64 - kPrecision);
    const std::uint64_t rest = (hash << kPrecision) | (std::uint64_t{1} << (kPrecision - 1));
    const auto rank = static_cast<std::uint8_t>(std::countl_zero(rest) + 1);
    registers_[index] = std::max(registers_[index], rank);
}

void HyperLogLog::add(std::span<const double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        double x = load(values.data(), i);
        if (std::isnan(x)) x = std::numeric_limits<double>::quiet_NaN();
        if (x == 0.0) x = 0.0;
        add_hash(mix64(std::bit_cast<std::uint64_t>(x)));
    }
}

void HyperLogLog::add(std::span<const std::int64_t> values) {
    for (std::size_t i = 0; i < values.size(); ++i) add_hash(mix64(static_cast<std::uint64_t>(load(values.data(), i))));
}

void HyperLogLog::merge(const HyperLogLog& other) {
    for (std::size_t i = 0; i < registers_.size(); ++i) registers_[i] = std::max(registers_[i], other.registers_[i]);
}

std::int64_t HyperLogLog::estimate() const {
    // 2^-r by table: the estimate runs on every reduce, often on a normal
    // scheduler, and ldexp per register would dominate small inputs.
    static const auto kInversePowers = [] {
        std::array<double, 65> table{};
        for (std::size_t r = 0; r < table.size(); ++r) table[r] = std::ldexp(1.0, -static_cast<int>(r));
        return table;
    }();
    const double m = static_cast<double>(registers_.size());
    double harmonic = 0.0;
    std::size_t zeros = 0;
    for (std::uint8_t r : registers_) {
        harmonic += kInversePowers[r];
        zeros += r == 0 ? 1 : 0;
    }
    const double alpha = 0.7213 / (1.0 + 1.079 / m);
    const double raw = alpha * m * m / harmonic;
    // Linear counting is the better estimate while many registers are empty.
    const bool sparse = raw <= 2.5 * m && zeros > 0;
    return std::llround(sparse ? m * std::log(m / static_cast<double>(zeros)) : raw);
}

std::string HyperLogLog::encode() const {
    Writer out(kHllMagic);
    out.put<std::uint8_t>(kPrecision);
    out.put_bytes(registers_);
    return out.take();
}

HyperLogLog HyperLogLog::decode(std::string_view bytes) {
    Reader in(bytes, kHllMagic, "HyperLogLog");
    if (in.get<std::uint8_t>() != kPrecision) in.fail("its precision is not " + std::to_string(kPrecision));
    HyperLogLog sketch;
    for (auto& r : sketch.registers_) {
        r = in.get<std::uint8_t>();
        if (r > 64 - kPrecision + 1) in.fail("a register holds " + std::to_string(r));
    }
    in.finish();
    return sketch;
}

// --- DDSketch -----------------------------------------------------------------

void DDSketch::Store::add(std::int32_t index, std::uint64_t n) {
    if (counts.empty()) {
        offset = index;
        counts.assign(1, 0);
    } else if (index < offset) {
        counts.insert(counts.begin(), static_cast<std::size_t>(offset - index), 0);
        offset = index;
    } else if (static_cast<std::size_t>(index - offset) >= counts.size()) {
        counts.resize(static_cast<std::size_t>(index - offset) + 1, 0);
    }
    counts[static_cast<std::size_t>(index - offset)] += n;
}

std::uint64_t DDSketch::Store::total() const {
    std::uint64_t total = 0;
    for (std::uint64_t c : counts) total += c;
    return total;
}

DDSketch::DDSketch(double alpha)
    : alpha_(alpha),
      gamma_((1.0 + alpha) / (1.0 - alpha)),
      log_gamma_(std::log(gamma_)),
      min_(std::numeric_limits<double>::infinity()),
      max_(-std::numeric_limits<double>::infinity()) {
    if (!(alpha > 0.0 && alpha < 1.0)) throw std::invalid_argument("DDSketch relative accuracy must be in (0, 1)");
}

std::int32_t DDSketch::index_of(double magnitude) const {
    return static_cast<std::int32_t>(std::ceil(std::log(magnitude) / log_gamma_));
}

double DDSketch::value_of(std::int32_t index) const {
    // The point of bucket (gamma^(i-1), gamma^i] within alpha of both ends.
    return 2.0 * std::pow(gamma_, index) / (gamma_ + 1.0);
}

void DDSketch::add_one(double x) {
    ++count_;
    if (std::isnan(x)) {
        has_nan_ = true;
        return;
    }
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
    if (std::isinf(x)) {
        ++(x > 0 ? positive_infinities_ : negative_infinities_);
    } else if (std::fabs(x) < kMinIndexable) {
        ++zeros_;
    } else {
        (x > 0 ? positive_ : negative_).add(index_of(std::fabs(x)), 1);
    }
}

void DDSketch::add(std::span<const double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) add_one(load(values.data(), i));
}

void DDSketch::add(std::span<const std::int64_t> values) {
    for (std::size_t i = 0; i < values.size(); ++i) add_one(static_cast<double>(load(values.data(), i)));
}

void DDSketch::merge(const DDSketch& other) {
    if (other.alpha_ != alpha_) throw std::invalid_argument("cannot merge DDSketches of different relative accuracy");
    count_ += other.count_;
    zeros_ += other.zeros_;
    negative_infinities_ += other.negative_infinities_;
    positive_infinities_ += other.positive_infinities_;
    has_nan_ = has_nan_ || other.has_nan_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    for (const auto& [mine, theirs] : {std::pair{&positive_, &other.positive_}, std::pair{&negative_, &other.negative_}}) {
        for (std::size_t i = 0; i < theirs->counts.size(); ++i) {
            if (theirs->counts[i] != 0) mine->add(theirs->offset + static_cast<std::int32_t>(i), theirs->counts[i]);
        }
    }
}

double DDSketch::quantile(double q) const {
    if (has_nan_) return std::numeric_limits<double>::quiet_NaN();
    const double rank = q * static_cast<double>(count_ - 1);
    std::uint64_t seen = negative_infinities_;
    if (static_cast<double>(seen) > rank) return -std::numeric_limits<double>::infinity();
    auto clamp = [&](double v) { return std::clamp(v, min_, max_); };
    for (std::size_t i = negative_.counts.size(); i-- > 0;) {
        seen += negative_.counts[i];
        if (static_cast<double>(seen) > rank) return clamp(-value_of(negative_.offset + static_cast<std::int32_t>(i)));
    }
    seen += zeros_;
    if (static_cast<double>(seen) > rank) return clamp(0.0);
    for (std::size_t i = 0; i < positive_.counts.size(); ++i) {
        seen += positive_.counts[i];
        if (static_cast<double>(seen) > rank) return clamp(value_of(positive_.offset + static_cast<std::int32_t>(i)));
    }
    return max_;
}

std::string DDSketch::encode() const {
    Writer out(kDdMagic);
    out.put(alpha_);
    out.put(count_);
    out.put(zeros_);
    out.put(negative_infinities_);
    out.put(positive_infinities_);
    out.put<std::uint8_t>(has_nan_ ? 1 : 0);
    out.put(min_);
    out.put(max_);
    for (const Store* store : {&positive_, &negative_}) {
        std::uint32_t used = 0;
        for (std::uint64_t c : store->counts) used += c != 0;
        out.put(used);
        for (std::size_t i = 0; i < store->counts.size(); ++i) {
            if (store->counts[i] == 0) continue;
            out.put(store->offset + static_cast<std::int32_t>(i));
            out.put(store->counts[i]);
        }
    }
    return out.take();
}

DDSketch DDSketch::decode(std::string_view bytes) {
    Reader in(bytes, kDdMagic, "DDSketch");
    const double alpha = in.get<double>();
    // One accuracy only, so bucket indices have a known bound (below).
    if (alpha != kDefaultAlpha) in.fail("its relative accuracy is not " + std::to_string(kDefaultAlpha));
    DDSketch sketch(alpha);
    sketch.count_ = in.get<std::uint64_t>();
    sketch.zeros_ = in.get<std::uint64_t>();
    sketch.negative_infinities_ = in.get<std::uint64_t>();
    sketch.positive_infinities_ = in.get<std::uint64_t>();
    sketch.has_nan_ = in.get<std::uint8_t>() != 0;
    sketch.min_ = in.get<double>();
    sketch.max_ = in.get<double>();
    // Bucket indices of normal doubles stay within +/-35.5k at 1% accuracy;
    // anything outside is a corrupt state, not a sketch to allocate for.
    constexpr std::int32_t kIndexLimit = 40'000;
    for (Store* store : {&sketch.positive_, &sketch.negative_}) {
        const auto used = in.get<std::uint32_t>();
        if (used > in.remaining() / 12) in.fail("it declares more buckets than it holds");
        for (std::uint32_t i = 0; i < used; ++i) {
            const auto index = in.get<std::int32_t>();
            const auto count = in.get<std::uint64_t>();
            if (index < -kIndexLimit || index > kIndexLimit) in.fail("a bucket index is out of range");
            store->add(index, count);
        }
    }
    in.finish();
    return sketch;
}

}  // namespace analytics::kernels
