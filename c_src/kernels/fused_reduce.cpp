#include "fused_reduce.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "distinct.hpp"
#include "exact_product.hpp"
#include "quantile.hpp"
#include "summary.hpp"

namespace analytics::kernels {
namespace {

// Folds the summaries of consecutive blocks into one. Rows of a block are
// given by `rows` (after a filter) or by the block's first row.
template <typename T>
class Accumulator {
public:
    Accumulator(std::span<const Reducer> reducers, const SimdTable& simd) : needs_(needs_of(reducers)), simd_(simd) {
        block_needs_ = needs_;
        block_needs_.quantiles.clear();
        block_needs_.distinct = false;
        // Sketches take values straight into the running one, not per block.
        block_needs_.hll = block_needs_.dd = false;
        block_needs_.sum = true;  // block means feed Chan's merge
        // An exact product is settled by a zero even after an overflow, so it
        // takes all the values at once, like the order statistics.
        exact_product_ = std::is_same_v<T, std::int64_t> && needs_.product;
        if (exact_product_) block_needs_.product = false;
        keep_values_ = !needs_.quantiles.empty() || needs_.distinct || exact_product_;
        total_ = empty_summary(needs_);
        if constexpr (std::is_same_v<T, double>) {
            total_.sum = 0.0;
            total_.product = 1.0;
        } else {
            total_.sum = __int128{0};
            total_.product = __int128{1};
        }
    }

    void add(std::span<const T> values, std::span<const std::size_t> rows, std::size_t first_row) {
        if (values.empty()) return;
        const Summary block = summarise(values, block_needs_, simd_);
        const auto row = [&](std::size_t i) { return rows.empty() ? first_row + i : rows[i]; };
        if (total_.hll) total_.hll->add(values);
        if (total_.dd) total_.dd->add(values);
        if (total_.count == 0) {
            auto hll = std::move(total_.hll);
            auto dd = std::move(total_.dd);
            total_ = block;
            total_.hll = std::move(hll);
            total_.dd = std::move(dd);
            total_.argmin = row(block.argmin);
            total_.argmax = row(block.argmax);
        } else {
            merge(block, row(block.argmin), row(block.argmax));
        }
        if (keep_values_) kept_.insert(kept_.end(), values.begin(), values.end());
    }

    Summary finish() {
        if (total_.count > 0) {
            total_.mean = std::visit([&](const auto& sum) { return as_double(sum); }, total_.sum) /
                          static_cast<double>(total_.count);
        }
        if (!needs_.quantiles.empty() && !kept_.empty()) total_.quantiles = quantiles(std::span<const T>(kept_), needs_.quantiles);
        if (needs_.distinct) total_.distinct = n_distinct(std::span<const T>(kept_));
        if constexpr (std::is_same_v<T, std::int64_t>) {
            if (exact_product_) total_.product = exact_product(kept_);
        }
        return total_;
    }

private:
    template <typename V>
    static double as_double(const V& v) {
        if constexpr (std::is_arithmetic_v<V> || std::is_same_v<V, __int128>) {
            return static_cast<double>(v);
        } else {
            return 0.0;
        }
    }

    void merge(const Summary& block, std::size_t argmin_row, std::size_t argmax_row) {
        const double n_a = static_cast<double>(total_.count);
        const double n_b = static_cast<double>(block.count);
        const double mean_a = std::visit([](const auto& s) { return as_double(s); }, total_.sum) / n_a;
        const double mean_b = std::visit([](const auto& s) { return as_double(s); }, block.sum) / n_b;
        const double delta = mean_b - mean_a;
        total_.m2 += block.m2 + delta * delta * n_a * n_b / (n_a + n_b);
        total_.count += block.count;
        total_.sum = add(total_.sum, block.sum);
        if (block_needs_.product) total_.product = std::get<double>(total_.product) * std::get<double>(block.product);
        if (needs_.stats) {
            if (replaces(block.min, total_.min, std::less<>{})) {
                total_.min = block.min;
                total_.argmin = argmin_row;
            }
            if (replaces(block.max, total_.max, std::greater<>{})) {
                total_.max = block.max;
                total_.argmax = argmax_row;
            }
        }
    }

    static ReduceValue add(const ReduceValue& a, const ReduceValue& b) {
        if constexpr (std::is_same_v<T, double>) {
            return std::get<double>(a) + std::get<double>(b);
        } else {
            return std::get<__int128>(a) + std::get<__int128>(b);
        }
    }

    // Whether a block's extreme replaces the running one: the first NaN wins
    // and stays, otherwise a strictly better value (so positions stay first).
    template <typename Better>
    static bool replaces(const ReduceValue& candidate, const ReduceValue& current, Better better) {
        const T c = std::get<T>(candidate);
        const T r = std::get<T>(current);
        if constexpr (std::is_same_v<T, double>) {
            if (std::isnan(r)) return false;
            if (std::isnan(c)) return true;
        }
        return better(c, r);
    }

    Needs needs_;
    const SimdTable& simd_;
    Needs block_needs_;
    bool exact_product_ = false;
    bool keep_values_ = false;
    Summary total_;
    std::vector<T> kept_;
};

// The values a block reduces: the mapped values, or the column itself.
template <typename T>
class ValueSource {
public:
    ValueSource(std::span<const T> column) : column_(column) {}
    std::span<const T> block(std::size_t start, std::size_t length) { return column_.subspan(start, length); }

private:
    std::span<const T> column_;
};

template <>
class ValueSource<double> {
public:
    explicit ValueSource(std::span<const double> column) : column_(column) {}
    ValueSource(const Expression& map, std::span<const ColumnView> columns) : mapped_(BlockEvaluator(map, columns)) {}
    std::span<const double> block(std::size_t start, std::size_t length) {
        return mapped_ ? mapped_->evaluate(start, length) : column_.subspan(start, length);
    }

private:
    std::span<const double> column_;
    std::optional<BlockEvaluator> mapped_;
};

template <typename T>
Summary run(ValueSource<T> source, std::size_t rows, const Expression* where, std::span<const ColumnView> columns,
            std::span<const Reducer> reducers, const SimdTable& simd) {
    Accumulator<T> acc(reducers, simd);
    std::optional<BlockEvaluator> filter;
    if (where) filter.emplace(*where, columns);
    // Branch-free compaction: a filter that keeps rows at random would
    // otherwise mispredict on every other row.
    std::vector<T> selected(kExprBlock);
    std::vector<std::size_t> selected_rows(kExprBlock);
    for (std::size_t start = 0; start < rows; start += kExprBlock) {
        const std::size_t length = std::min(kExprBlock, rows - start);
        const std::span<const T> values = source.block(start, length);
        if (!filter) {
            acc.add(values, {}, start);
            continue;
        }
        const std::span<const double> keep = filter->evaluate(start, length);
        std::size_t kept = 0;
        for (std::size_t i = 0; i < length; ++i) {
            selected[kept] = values[i];
            selected_rows[kept] = start + i;
            kept += keep[i] != 0.0 ? 1 : 0;
        }
        acc.add(std::span<const T>(selected.data(), kept), std::span<const std::size_t>(selected_rows.data(), kept), start);
    }
    return acc.finish();
}

}  // namespace

std::vector<ReduceValue> fused_reduce(std::span<const ColumnView> columns, const FusedQuery& query,
                                      std::span<const Reducer> reducers, const SimdTable& simd) {
    for (const Reducer& r : reducers) validate(r);
    if (query.map && query.map->is_predicate()) {
        throw std::invalid_argument("map: must compute a number, got a predicate (use it as where:)");
    }
    if (query.where && !query.where->is_predicate()) {
        throw std::invalid_argument("where: must be a predicate (a comparison, is_nan, and/or/not), got a number");
    }
    if (!query.map && columns.size() != 1) {
        throw std::invalid_argument("reducing " + std::to_string(columns.size()) +
                                    " columns needs map: to say what to reduce");
    }
    const std::size_t rows = common_length(columns);
    if (!query.map && !query.where) return reduce(columns.front(), reducers, simd);

    Summary summary;
    if (query.map) {
        summary = run(ValueSource<double>(*query.map, columns), rows, query.where, columns, reducers, simd);
    } else {
        summary = std::visit(
            [&](auto column) {
                using T = typename decltype(column)::value_type;
                return run(ValueSource<T>(column), rows, query.where, columns, reducers, simd);
            },
            columns.front());
    }
    return emit(summary, reducers);
}

}  // namespace analytics::kernels
