#include "expression.hpp"

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "exact_compare.hpp"

namespace analytics::kernels {
namespace {

enum class Arity { leaf, unary, binary, ternary };
enum class Kind { number, predicate };

struct Signature {
    Arity arity;
    Kind operands;
    Kind result;
};

Signature signature_of(Op op) {
    switch (op) {
        case Op::column:
        case Op::constant:
        case Op::integer: return {Arity::leaf, Kind::number, Kind::number};
        case Op::negate:
        case Op::abs:
        case Op::sqrt:
        case Op::log:
        case Op::log10:
        case Op::exp:
        case Op::floor:
        case Op::ceil:
        case Op::round: return {Arity::unary, Kind::number, Kind::number};
        case Op::add:
        case Op::subtract:
        case Op::multiply:
        case Op::divide:
        case Op::pow:
        case Op::min:
        case Op::max:
        case Op::int_div:
        case Op::int_rem: return {Arity::binary, Kind::number, Kind::number};
        case Op::is_nan:
        case Op::is_infinite:
        case Op::is_finite: return {Arity::unary, Kind::number, Kind::predicate};
        case Op::less:
        case Op::less_equal:
        case Op::greater:
        case Op::greater_equal:
        case Op::equal:
        case Op::not_equal: return {Arity::binary, Kind::number, Kind::predicate};
        case Op::logical_not: return {Arity::unary, Kind::predicate, Kind::predicate};
        case Op::logical_and:
        case Op::logical_or: return {Arity::binary, Kind::predicate, Kind::predicate};
        // Checked apart: the branches' kind is the result's.
        case Op::select: return {Arity::ternary, Kind::predicate, Kind::number};
    }
    throw std::invalid_argument("unknown expression operator");
}

std::string kind_name(Kind kind) { return kind == Kind::number ? "a number" : "a predicate"; }

bool is_comparison(Op op) {
    return op == Op::less || op == Op::less_equal || op == Op::greater || op == Op::greater_equal ||
           op == Op::equal || op == Op::not_equal;
}

// Operators that give an integer for integers: these keep i64 operands exact.
bool closed_over_integers(Op op) {
    switch (op) {
        case Op::add:
        case Op::subtract:
        case Op::multiply:
        case Op::negate:
        case Op::abs:
        case Op::min:
        case Op::max:
        case Op::floor:
        case Op::ceil:
        case Op::round:
        case Op::int_div:
        case Op::int_rem:
        case Op::select: return true;
        default: return false;
    }
}

// The operator as Analytics.Expr spells it, for error messages.
const char* spelling(Op op) {
    switch (op) {
        case Op::add: return "+";
        case Op::subtract: return "-";
        case Op::multiply: return "*";
        case Op::negate: return "unary -";
        case Op::abs: return "abs";
        case Op::int_div: return "div";
        default: return "an operator";
    }
}

[[noreturn]] void overflow(Op op, std::size_t row) {
    throw std::invalid_argument("integer overflow in " + std::string(spelling(op)) + " at row " + std::to_string(row) +
                                ": the result leaves the signed 64-bit range (cast a column to :f64 for float "
                                "arithmetic)");
}

// NaN propagates, as it does through the reducers.
double nan_min(double a, double b) { return std::isnan(a) || a < b ? a : b; }
double nan_max(double a, double b) { return std::isnan(a) || a > b ? a : b; }

template <typename T, typename F>
void unary(T* out, const T* a, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i]);
}

template <typename T, typename F>
void binary(T* out, const T* a, const T* b, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

template <typename T>
void choose(T* out, const double* condition, const T* a, const T* b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = condition[i] != 0.0 ? a[i] : b[i];
}

double truth(bool b) { return b ? 1.0 : 0.0; }

void widen(const std::int64_t* in, std::size_t n, double* out) {
    std::transform(in, in + n, out, [](std::int64_t x) { return static_cast<double>(x); });
}

template <typename A, typename B, typename Keep>
void compare_with(double* out, const A* a, const B* b, std::size_t n, Keep keep) {
    for (std::size_t i = 0; i < n; ++i) out[i] = truth(keep(exact_order(a[i], b[i])));
}

// An unordered pair (NaN) is unequal and nothing else.
template <typename A, typename B>
void compare_block(Op op, double* out, const A* a, const B* b, std::size_t n) {
    using P = std::partial_ordering;
    switch (op) {
        case Op::less: compare_with(out, a, b, n, [](P o) { return o < 0; }); break;
        case Op::less_equal: compare_with(out, a, b, n, [](P o) { return o <= 0; }); break;
        case Op::greater: compare_with(out, a, b, n, [](P o) { return o > 0; }); break;
        case Op::greater_equal: compare_with(out, a, b, n, [](P o) { return o >= 0; }); break;
        case Op::equal: compare_with(out, a, b, n, [](P o) { return o == 0; }); break;
        default: compare_with(out, a, b, n, [](P o) { return o != 0; }); break;
    }
}

}  // namespace

Expression::Expression(std::vector<ExprNode> nodes, std::size_t column_count) : nodes_(std::move(nodes)) {
    if (nodes_.empty()) throw std::invalid_argument("an expression needs at least one node");
    predicate_.reserve(nodes_.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        const ExprNode& node = nodes_[i];
        const Signature sig = signature_of(node.op);
        if (node.op == Op::column && node.column >= column_count) {
            throw std::invalid_argument("expression column " + std::to_string(node.column) + " is not among the " +
                                        std::to_string(column_count) + " input columns");
        }
        const std::uint32_t operands[] = {node.left, node.right, node.third};
        const std::size_t count = static_cast<std::size_t>(sig.arity);
        for (std::size_t k = 0; k < count; ++k) {
            if (operands[k] >= i) throw std::invalid_argument("expression operands must come before their operator");
        }
        const auto kind = [&](std::uint32_t operand) { return predicate_[operand] ? Kind::predicate : Kind::number; };
        Kind result = sig.result;
        for (std::size_t k = 0; k < count; ++k) {
            // select: a predicate, then two branches of one kind.
            const Kind wanted = node.op == Op::select && k > 0 ? kind(node.right) : sig.operands;
            const Kind given = kind(operands[k]);
            if (given != wanted) {
                throw std::invalid_argument("an operator that takes " + kind_name(wanted) + " was given " +
                                            kind_name(given));
            }
        }
        if (node.op == Op::select) result = kind(node.right);
        predicate_.push_back(result == Kind::predicate);
    }
}

std::size_t common_length(std::span<const ColumnView> columns) {
    if (columns.empty()) return 0;
    const auto length = [](const ColumnView& c) { return std::visit([](auto s) { return s.size(); }, c); };
    const std::size_t n = length(columns.front());
    for (const ColumnView& c : columns) {
        if (length(c) != n) {
            throw std::invalid_argument("columns differ in length: " + std::to_string(n) + " and " +
                                        std::to_string(length(c)));
        }
    }
    return n;
}

BlockEvaluator::BlockEvaluator(const Expression& expression, std::span<const ColumnView> columns)
    : expression_(expression), columns_(columns) {
    common_length(columns);
    const auto nodes = expression.nodes();
    const std::size_t n = nodes.size();
    types_.resize(n);
    std::vector<bool> as_f64(n, false);  // an i64 node some consumer reads as a double
    for (std::size_t i = 0; i < n; ++i) {
        const ExprNode& node = nodes[i];
        const std::size_t count = static_cast<std::size_t>(signature_of(node.op).arity);
        const std::uint32_t operands[] = {node.left, node.right, node.third};
        bool integers = true;
        for (std::size_t k = node.op == Op::select ? 1 : 0; k < count; ++k) {
            integers = integers && types_[operands[k]] == ValueType::i64;
        }
        if (node.op == Op::column) {
            integers = std::holds_alternative<std::span<const std::int64_t>>(columns[node.column]);
        }
        if (expression.is_predicate(i)) {
            types_[i] = ValueType::predicate;
        } else if (node.op == Op::integer || (integers && (node.op == Op::column || closed_over_integers(node.op)))) {
            types_[i] = ValueType::i64;
        } else {
            types_[i] = ValueType::f64;
        }
        // Comparisons read integers as they are; everything else that is not
        // itself integer arithmetic reads doubles.
        if (types_[i] != ValueType::i64 && !is_comparison(node.op)) {
            for (std::size_t k = 0; k < count; ++k) {
                if (types_[operands[k]] == ValueType::i64) as_f64[operands[k]] = true;
            }
        }
    }
    as_f64.back() = true;  // evaluate() gives the root as doubles whatever its type

    std::size_t f64_blocks = 0, i64_blocks = 0;
    for (std::size_t i = 0; i < n; ++i) {
        f64_blocks += types_[i] != ValueType::i64 || as_f64[i];
        i64_blocks += types_[i] == ValueType::i64;
    }
    f64_scratch_.resize(f64_blocks * kExprBlock);
    i64_scratch_.resize(i64_blocks * kExprBlock);
    f64_.assign(n, nullptr);
    i64_.assign(n, nullptr);
    f64_blocks = i64_blocks = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (types_[i] != ValueType::i64 || as_f64[i]) f64_[i] = &f64_scratch_[kExprBlock * f64_blocks++];
        if (types_[i] == ValueType::i64) i64_[i] = &i64_scratch_[kExprBlock * i64_blocks++];
        // Constants fill their blocks once.
        if (nodes[i].op == Op::constant) std::fill_n(f64_[i], kExprBlock, nodes[i].constant);
        if (nodes[i].op == Op::integer) {
            std::fill_n(i64_[i], kExprBlock, nodes[i].integer);
            if (f64_[i]) std::fill_n(f64_[i], kExprBlock, static_cast<double>(nodes[i].integer));
        }
    }
}

void BlockEvaluator::run(std::size_t start, std::size_t length) {
    const auto nodes = expression_.nodes();
    const std::size_t last = nodes.size() - 1;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const ExprNode& node = nodes[i];
        if (node.op == Op::constant || node.op == Op::integer) continue;
        if (node.op == Op::column) {
            // memcpy: a column handed to a kernel may be misaligned (a slice of
            // a binary), and a block copy is cheap next to the operators.
            std::visit(
                [&](auto column) {
                    using T = typename decltype(column)::value_type;
                    T* out;
                    if constexpr (std::is_same_v<T, double>) {
                        out = f64_[i];
                    } else {
                        out = i64_[i];
                    }
                    // As bytes: the compiler may not assume a T's alignment.
                    const auto* bytes = reinterpret_cast<const unsigned char*>(column.data()) + start * sizeof(T);
                    std::memcpy(out, bytes, length * sizeof(T));
                },
                columns_[node.column]);
        } else if (types_[i] == ValueType::i64) {
            apply_i64(node, i, start, length);
        } else if (is_comparison(node.op)) {
            compare(node, i, length);
        } else {
            apply_f64(node, i, length);
        }
        // The root's double form is made by evaluate() only.
        if (types_[i] == ValueType::i64 && f64_[i] && i != last) {
            widen(i64_[i], length, f64_[i]);
        }
    }
}

void BlockEvaluator::apply_f64(const ExprNode& node, std::size_t index, std::size_t n) {
    double* out = f64_[index];
    const double* a = f64_[node.left];
    const double* b = f64_[node.right];
    switch (node.op) {
        case Op::column:
        case Op::constant:
        case Op::integer:
        case Op::less:
        case Op::less_equal:
        case Op::greater:
        case Op::greater_equal:
        case Op::equal:
        case Op::not_equal: break;
        case Op::add: binary(out, a, b, n, [](double x, double y) { return x + y; }); break;
        case Op::subtract: binary(out, a, b, n, [](double x, double y) { return x - y; }); break;
        case Op::multiply: binary(out, a, b, n, [](double x, double y) { return x * y; }); break;
        case Op::divide: binary(out, a, b, n, [](double x, double y) { return x / y; }); break;
        case Op::pow: binary(out, a, b, n, [](double x, double y) { return std::pow(x, y); }); break;
        case Op::min: binary(out, a, b, n, nan_min); break;
        case Op::max: binary(out, a, b, n, nan_max); break;
        // Truncated, as Elixir's div/2 and rem/2: rem takes the dividend's sign.
        case Op::int_div: binary(out, a, b, n, [](double x, double y) { return std::trunc(x / y); }); break;
        case Op::int_rem: binary(out, a, b, n, [](double x, double y) { return std::fmod(x, y); }); break;
        case Op::negate: unary(out, a, n, [](double x) { return -x; }); break;
        case Op::abs: unary(out, a, n, [](double x) { return std::fabs(x); }); break;
        case Op::sqrt: unary(out, a, n, [](double x) { return std::sqrt(x); }); break;
        case Op::log: unary(out, a, n, [](double x) { return std::log(x); }); break;
        case Op::log10: unary(out, a, n, [](double x) { return std::log10(x); }); break;
        case Op::exp: unary(out, a, n, [](double x) { return std::exp(x); }); break;
        case Op::floor: unary(out, a, n, [](double x) { return std::floor(x); }); break;
        case Op::ceil: unary(out, a, n, [](double x) { return std::ceil(x); }); break;
        // Half away from zero, as Elixir's round/1.
        case Op::round: unary(out, a, n, [](double x) { return std::round(x); }); break;
        case Op::is_nan: unary(out, a, n, [](double x) { return truth(std::isnan(x)); }); break;
        case Op::is_infinite: unary(out, a, n, [](double x) { return truth(std::isinf(x)); }); break;
        case Op::is_finite: unary(out, a, n, [](double x) { return truth(std::isfinite(x)); }); break;
        case Op::logical_and: binary(out, a, b, n, [](double x, double y) { return truth(x != 0.0 && y != 0.0); }); break;
        case Op::logical_or: binary(out, a, b, n, [](double x, double y) { return truth(x != 0.0 || y != 0.0); }); break;
        case Op::logical_not: unary(out, a, n, [](double x) { return truth(x == 0.0); }); break;
        case Op::select: choose(out, a, b, f64_[node.third], n); break;
    }
}

void BlockEvaluator::apply_i64(const ExprNode& node, std::size_t index, std::size_t start, std::size_t n) {
    using I = std::int64_t;
    constexpr I kMin = std::numeric_limits<I>::min();
    I* out = i64_[index];
    const I* a = i64_[node.left];
    const I* b = i64_[node.right];
    // Checked: exact results or an error, never a silent wrap.
    const auto checked = [&](auto op) {
        for (std::size_t r = 0; r < n; ++r) {
            if (op(a[r], b[r], &out[r])) overflow(node.op, start + r);
        }
    };
    switch (node.op) {
        case Op::add: checked([](I x, I y, I* z) { return __builtin_add_overflow(x, y, z); }); break;
        case Op::subtract: checked([](I x, I y, I* z) { return __builtin_sub_overflow(x, y, z); }); break;
        case Op::multiply: checked([](I x, I y, I* z) { return __builtin_mul_overflow(x, y, z); }); break;
        case Op::negate:
        case Op::abs:
            for (std::size_t r = 0; r < n; ++r) {
                if (a[r] == kMin) overflow(node.op, start + r);
                out[r] = node.op == Op::negate || a[r] < 0 ? -a[r] : a[r];
            }
            break;
        case Op::min: binary(out, a, b, n, [](I x, I y) { return std::min(x, y); }); break;
        case Op::max: binary(out, a, b, n, [](I x, I y) { return std::max(x, y); }); break;
        // By zero: div is 0 and rem the dividend (so x == div * y + rem still
        // holds). Both branches of an `if` are evaluated on every row, so an
        // error here would make `if(y == 0, 0, div(x, y))` unusable.
        case Op::int_div:
            for (std::size_t r = 0; r < n; ++r) {
                if (a[r] == kMin && b[r] == -1) overflow(node.op, start + r);
                out[r] = b[r] == 0 ? 0 : a[r] / b[r];
            }
            break;
        case Op::int_rem:
            for (std::size_t r = 0; r < n; ++r) out[r] = b[r] == 0 ? a[r] : b[r] == -1 ? 0 : a[r] % b[r];
            break;
        case Op::select: choose(out, f64_[node.left], b, i64_[node.third], n); break;
        default: std::copy_n(a, n, out); break;  // floor, ceil, round of an integer
    }
}

void BlockEvaluator::compare(const ExprNode& node, std::size_t index, std::size_t n) {
    double* out = f64_[index];
    const bool left_int = types_[node.left] == ValueType::i64;
    const bool right_int = types_[node.right] == ValueType::i64;
    if (left_int && right_int) {
        compare_block(node.op, out, i64_[node.left], i64_[node.right], n);
    } else if (left_int) {
        compare_block(node.op, out, i64_[node.left], f64_[node.right], n);
    } else if (right_int) {
        compare_block(node.op, out, f64_[node.left], i64_[node.right], n);
    } else {
        compare_block(node.op, out, f64_[node.left], f64_[node.right], n);
    }
}

std::span<const double> BlockEvaluator::evaluate(std::size_t start, std::size_t length) {
    run(start, length);
    const std::size_t root = types_.size() - 1;
    if (types_[root] == ValueType::i64) {
        widen(i64_[root], length, f64_[root]);
    }
    return {f64_[root], length};
}

std::span<const std::int64_t> BlockEvaluator::evaluate_i64(std::size_t start, std::size_t length) {
    if (result_type() != ValueType::i64) throw std::logic_error("evaluate_i64 on an expression that is not i64");
    run(start, length);
    return {i64_.back(), length};
}

namespace {

template <typename T, typename Evaluate>
void evaluate_whole(std::span<T> out, Evaluate evaluate) {
    for (std::size_t start = 0; start < out.size(); start += kExprBlock) {
        const std::size_t length = std::min(kExprBlock, out.size() - start);
        const auto block = evaluate(start, length);
        std::copy(block.begin(), block.end(), out.begin() + static_cast<std::ptrdiff_t>(start));
    }
}

}  // namespace

void evaluate_into(BlockEvaluator& evaluator, std::span<double> out) {
    evaluate_whole(out, [&](std::size_t start, std::size_t length) { return evaluator.evaluate(start, length); });
}

void evaluate_into(BlockEvaluator& evaluator, std::span<std::int64_t> out) {
    evaluate_whole(out, [&](std::size_t start, std::size_t length) { return evaluator.evaluate_i64(start, length); });
}

void evaluate_into(const Expression& expression, std::span<const ColumnView> columns, std::span<double> out) {
    BlockEvaluator evaluator(expression, columns);
    evaluate_into(evaluator, out);
}

std::vector<std::size_t> selected_rows(const Expression& predicate, std::span<const ColumnView> columns) {
    if (!predicate.is_predicate()) {
        throw std::invalid_argument("filter needs a predicate, got an expression that computes a number");
    }
    BlockEvaluator evaluator(predicate, columns);
    const std::size_t rows = common_length(columns);
    std::vector<std::size_t> selected;
    for (std::size_t start = 0; start < rows; start += kExprBlock) {
        const std::size_t length = std::min(kExprBlock, rows - start);
        const auto keep = evaluator.evaluate(start, length);
        for (std::size_t r = 0; r < length; ++r) {
            if (keep[r] != 0.0) selected.push_back(start + r);
        }
    }
    return selected;
}

}  // namespace analytics::kernels
