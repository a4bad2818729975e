#include "group_reduce.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"
#include "hash_mix.hpp"
#include "summary.hpp"

namespace analytics::kernels {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

template <typename T>
T load(const T* data, std::size_t i) {
    T x;  // memcpy: a column may be a misaligned slice
    std::memcpy(&x, reinterpret_cast<const unsigned char*>(data) + i * sizeof(T), sizeof(T));
    return x;
}

// Maps each distinct key to a dense group number, in order of first sight.
// A slot holds its key beside the group, so a probe is one cache line.
class GroupTable {
public:
    GroupTable() : slots_(1024) {}

    struct Found {
        std::uint32_t group;
        bool inserted;
    };

    Found group_of(std::int64_t key) {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = mix64(static_cast<std::uint64_t>(key)) & mask;; i = (i + 1) & mask) {
            Slot& slot = slots_[i];
            if (slot.group == kEmpty) return insert(slot, key);
            if (slot.key == key) return {slot.group, false};
        }
    }

    const std::vector<std::int64_t>& keys() const { return keys_; }

private:
    static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();

    struct Slot {
        std::int64_t key = 0;
        std::uint32_t group = kEmpty;
    };

    [[gnu::noinline]] Found insert(Slot& slot, std::int64_t key) {
        if (keys_.size() >= kEmpty - 1) throw std::invalid_argument("more than 2^32 - 2 groups");
        const auto group = static_cast<std::uint32_t>(keys_.size());
        slot = {key, group};
        keys_.push_back(key);
        if (keys_.size() * 2 > slots_.size()) grow();
        return {group, true};
    }

    void grow() {
        std::vector<Slot> bigger(slots_.size() * 2);
        const std::size_t mask = bigger.size() - 1;
        for (const Slot& slot : slots_) {
            if (slot.group == kEmpty) continue;
            std::size_t i = mix64(static_cast<std::uint64_t>(slot.key)) & mask;
            while (bigger[i].group != kEmpty) i = (i + 1) & mask;
            bigger[i] = slot;
        }
        slots_.swap(bigger);
    }

    std::vector<Slot> slots_;
    std::vector<std::int64_t> keys_;
};

// Streaming state of every group, one array per quantity, grown as groups appear.
template <typename T>
struct Accumulators {
    using Sum = std::conditional_t<std::is_same_v<T, double>, double, __int128>;

    std::vector<std::uint64_t> count;
    std::vector<Sum> sum;
    std::vector<double> mean, m2;  // Welford
    std::vector<T> min, max;
    std::vector<std::uint64_t> argmin, argmax;
    std::vector<Sum> product;
    std::vector<std::uint8_t> product_overflowed;

    void add_group(std::size_t row, T x) {
        count.push_back(1);
        sum.push_back(static_cast<Sum>(x));
        mean.push_back(static_cast<double>(x));
        m2.push_back(0.0);
        min.push_back(x);
        max.push_back(x);
        argmin.push_back(row);
        argmax.push_back(row);
        product.push_back(static_cast<Sum>(x));
        product_overflowed.push_back(0);
    }

    void add(std::uint32_t g, std::size_t row, T x, const Needs& needs) {
        const std::uint64_t n = ++count[g];
        sum[g] += static_cast<Sum>(x);
        if (needs.m2) {
            const double delta = static_cast<double>(x) - mean[g];
            mean[g] += delta / static_cast<double>(n);
            m2[g] += delta * (static_cast<double>(x) - mean[g]);
        }
        if (needs.stats) {
            if (replaces(x, min[g], std::less<>{})) min[g] = x, argmin[g] = row;
            if (replaces(x, max[g], std::greater<>{})) max[g] = x, argmax[g] = row;
        }
        if (needs.product) {
            if constexpr (std::is_same_v<T, double>) {
                product[g] *= x;
            } else if (product[g] != 0) {
                // A zero settles the product even after an overflow.
                if (x == 0) {
                    product[g] = 0;
                    product_overflowed[g] = 0;
                } else if (!product_overflowed[g]) {
                    product_overflowed[g] = __builtin_mul_overflow(product[g], static_cast<__int128>(x), &product[g]);
                }
            }
        }
    }

    // The first NaN wins and stays; otherwise only a strictly better value,
    // so positions are first occurrences.
    template <typename Better>
    static bool replaces(T candidate, T current, Better better) {
        if constexpr (std::is_same_v<T, double>) {
            if (std::isnan(current)) return false;
            if (std::isnan(candidate)) return true;
        }
        return better(candidate, current);
    }
};

// Stands for a product that left 128 bits: narrow() refuses it like any other.
constexpr __int128 kOverflow = static_cast<__int128>(std::numeric_limits<std::int64_t>::max()) + 1;

std::int64_t narrow(__int128 value, const char* what, std::int64_t key) {
    if (value < std::numeric_limits<std::int64_t>::min() || value > std::numeric_limits<std::int64_t>::max()) {
        throw std::invalid_argument(std::string("the :i64 ") + what + " of group " + std::to_string(key) +
                                    " does not fit in 64 bits; group an :f64 series instead");
    }
    return static_cast<std::int64_t>(value);
}

template <typename T>
class Grouper {
public:
    Grouper(std::span<const std::int64_t> keys, std::span<const T> values, std::span<const Reducer> reducers)
        : keys_(keys), values_(values), reducers_(reducers), needs_(needs_of(reducers)) {}

    GroupResult run() {
        const bool gather = !needs_.quantiles.empty() || needs_.distinct;
        std::vector<std::uint32_t> row_groups(gather ? keys_.size() : 0);
        for (std::size_t row = 0; row < keys_.size(); ++row) {
            const std::int64_t key = load(keys_.data(), row);
            const T x = load(values_.data(), row);
            const auto [g, inserted] = table_.group_of(key);
            if (inserted) {
                acc_.add_group(row, x);
            } else {
                acc_.add(g, row, x, needs_);
            }
            if (gather) row_groups[row] = g;
        }
        order_.resize(table_.keys().size());
        std::iota(order_.begin(), order_.end(), 0u);
        std::sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
            return table_.keys()[a] < table_.keys()[b];
        });

        GroupResult result;
        result.keys.reserve(order_.size());
        for (std::uint32_t g : order_) result.keys.push_back(table_.keys()[g]);
        const auto gathered = gather ? order_statistics(row_groups) : std::vector<std::vector<ReduceValue>>{};
        std::size_t order_statistic = 0;
        for (const Reducer& r : reducers_) {
            if (r.kind == ReducerKind::quantile || r.kind == ReducerKind::n_distinct) {
                result.columns.push_back(gathered_column(gathered, order_statistic++));
            } else {
                result.columns.push_back(column(r));
            }
        }
        return result;
    }

private:
    template <typename Out, typename F>
    std::vector<Out> per_group(F f) const {
        std::vector<Out> out;
        out.reserve(order_.size());
        for (std::uint32_t g : order_) out.push_back(f(g));
        return out;
    }

    std::int64_t key_of(std::uint32_t g) const { return table_.keys()[g]; }

    // Sums and products: f64, or i64 when each group's exact value fits.
    template <typename Sum>
    GroupColumn exact_column(const std::vector<Sum>& values, const char* what,
                             const std::vector<std::uint8_t>* overflowed = nullptr) const {
        if constexpr (std::is_same_v<Sum, double>) {
            return per_group<double>([&](std::uint32_t g) { return values[g]; });
        } else {
            return per_group<std::int64_t>([&](std::uint32_t g) {
                return narrow(overflowed && (*overflowed)[g] ? kOverflow : values[g], what, key_of(g));
            });
        }
    }

    GroupColumn spread(const Reducer& r, bool as_deviation) const {
        return per_group<double>([&](std::uint32_t g) {
            const double n = static_cast<double>(acc_.count[g]);
            if (n <= r.parameter) return kNan;
            const double variance = acc_.m2[g] / (n - r.parameter);
            return as_deviation ? std::sqrt(variance) : variance;
        });
    }

    GroupColumn column(const Reducer& r) const {
        switch (r.kind) {
            case ReducerKind::sum: return exact_column(acc_.sum, "sum");
            case ReducerKind::product: return exact_column(acc_.product, "product", &acc_.product_overflowed);
            case ReducerKind::count:
                return per_group<std::int64_t>([&](std::uint32_t g) { return static_cast<std::int64_t>(acc_.count[g]); });
            case ReducerKind::min: return per_group<T>([&](std::uint32_t g) { return acc_.min[g]; });
            case ReducerKind::max: return per_group<T>([&](std::uint32_t g) { return acc_.max[g]; });
            case ReducerKind::argmin:
                return per_group<std::int64_t>([&](std::uint32_t g) { return static_cast<std::int64_t>(acc_.argmin[g]); });
            case ReducerKind::argmax:
                return per_group<std::int64_t>([&](std::uint32_t g) { return static_cast<std::int64_t>(acc_.argmax[g]); });
            case ReducerKind::mean:
                return per_group<double>([&](std::uint32_t g) {
                    return static_cast<double>(acc_.sum[g]) / static_cast<double>(acc_.count[g]);
                });
            case ReducerKind::variance: return spread(r, false);
            case ReducerKind::standard_deviation: return spread(r, true);
            default: throw std::invalid_argument("group_reduce does not take approximate reducers; use exact ones per group");
        }
    }

    // Rows sorted by group (a counting sort), each group's values reduced
    // with the order-statistic reducers only.
    std::vector<std::vector<ReduceValue>> order_statistics(const std::vector<std::uint32_t>& row_groups) const {
        std::vector<Reducer> wanted;
        for (const Reducer& r : reducers_) {
            if (r.kind == ReducerKind::quantile || r.kind == ReducerKind::n_distinct) wanted.push_back(r);
        }
        std::vector<std::size_t> start(order_.size() + 1, 0);
        for (std::uint32_t g : row_groups) ++start[g + 1];
        std::partial_sum(start.begin(), start.end(), start.begin());
        std::vector<T> sorted(row_groups.size());
        std::vector<std::size_t> next(start.begin(), start.end() - 1);
        for (std::size_t row = 0; row < row_groups.size(); ++row) sorted[next[row_groups[row]]++] = load(values_.data(), row);
        return per_group<std::vector<ReduceValue>>([&](std::uint32_t g) {
            const std::span<const T> values(sorted.data() + start[g], start[g + 1] - start[g]);
            return reduce(values, wanted, active_simd());
        });
    }

    static GroupColumn gathered_column(const std::vector<std::vector<ReduceValue>>& gathered, std::size_t index) {
        if (!gathered.empty() && std::holds_alternative<std::int64_t>(gathered.front()[index])) {
            std::vector<std::int64_t> out;
            for (const auto& values : gathered) out.push_back(std::get<std::int64_t>(values[index]));
            return out;
        }
        std::vector<double> out;
        for (const auto& values : gathered) out.push_back(std::get<double>(values[index]));
        return out;
    }

    std::span<const std::int64_t> keys_;
    std::span<const T> values_;
    std::span<const Reducer> reducers_;
    Needs needs_;
    GroupTable table_;
    Accumulators<T> acc_;
    std::vector<std::uint32_t> order_;
};

}  // namespace

GroupResult group_reduce(std::span<const std::int64_t> keys, const ColumnView& values,
                         std::span<const Reducer> reducers) {
    for (const Reducer& r : reducers) validate(r);
    return std::visit(
        [&](auto column) {
            using T = typename decltype(column)::value_type;
            if (column.size() != keys.size()) {
                throw std::invalid_argument("keys and values differ in length: " + std::to_string(keys.size()) +
                                            " and " + std::to_string(column.size()));
            }
            return Grouper<T>(keys, column, reducers).run();
        },
        values);
}

std::vector<std::int64_t> bucket_starts(std::span<const std::int64_t> timestamps, std::int64_t width) {
    if (width < 1) throw std::invalid_argument("bucket width must be a positive integer, got: " + std::to_string(width));
    std::vector<std::int64_t> starts(timestamps.size());
    for (std::size_t i = 0; i < timestamps.size(); ++i) {
        const std::int64_t t = load(timestamps.data(), i);
        std::int64_t q = t / width;
        if (t % width != 0 && t < 0) --q;  // floor, not truncation
        if (__builtin_mul_overflow(q, width, &starts[i])) {
            throw std::invalid_argument("the bucket of timestamp " + std::to_string(t) + " starts outside the i64 range");
        }
    }
    return starts;
}

}  // namespace analytics::kernels
