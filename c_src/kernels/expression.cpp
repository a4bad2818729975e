#include "expression.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace analytics::kernels {
namespace {

enum class Arity { leaf, unary, binary };
enum class Kind { number, predicate };

struct Signature {
    Arity arity;
    Kind operands;
    Kind result;
};

Signature signature_of(Op op) {
    switch (op) {
        case Op::column:
        case Op::constant: return {Arity::leaf, Kind::number, Kind::number};
        case Op::negate:
        case Op::abs:
        case Op::sqrt:
        case Op::log:
        case Op::exp:
        case Op::floor:
        case Op::ceil: return {Arity::unary, Kind::number, Kind::number};
        case Op::add:
        case Op::subtract:
        case Op::multiply:
        case Op::divide:
        case Op::pow:
        case Op::min:
        case Op::max: return {Arity::binary, Kind::number, Kind::number};
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
    }
    throw std::invalid_argument("unknown expression operator");
}

std::string kind_name(Kind kind) { return kind == Kind::number ? "a number" : "a predicate"; }

// NaN propagates, as it does through the reducers.
double nan_min(double a, double b) { return std::isnan(a) || a < b ? a : b; }
double nan_max(double a, double b) { return std::isnan(a) || a > b ? a : b; }

template <typename F>
void unary(double* out, const double* a, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i]);
}

template <typename F>
void binary(double* out, const double* a, const double* b, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

double truth(bool b) { return b ? 1.0 : 0.0; }

void apply(Op op, double* out, const double* a, const double* b, std::size_t n) {
    switch (op) {
        case Op::column:
        case Op::constant: break;
        case Op::add: binary(out, a, b, n, [](double x, double y) { return x + y; }); break;
        case Op::subtract: binary(out, a, b, n, [](double x, double y) { return x - y; }); break;
        case Op::multiply: binary(out, a, b, n, [](double x, double y) { return x * y; }); break;
        case Op::divide: binary(out, a, b, n, [](double x, double y) { return x / y; }); break;
        case Op::pow: binary(out, a, b, n, [](double x, double y) { return std::pow(x, y); }); break;
        case Op::min: binary(out, a, b, n, nan_min); break;
        case Op::max: binary(out, a, b, n, nan_max); break;
        case Op::negate: unary(out, a, n, [](double x) { return -x; }); break;
        case Op::abs: unary(out, a, n, [](double x) { return std::fabs(x); }); break;
        case Op::sqrt: unary(out, a, n, [](double x) { return std::sqrt(x); }); break;
        case Op::log: unary(out, a, n, [](double x) { return std::log(x); }); break;
        case Op::exp: unary(out, a, n, [](double x) { return std::exp(x); }); break;
        case Op::floor: unary(out, a, n, [](double x) { return std::floor(x); }); break;
        case Op::ceil: unary(out, a, n, [](double x) { return std::ceil(x); }); break;
        case Op::is_nan: unary(out, a, n, [](double x) { return truth(std::isnan(x)); }); break;
        case Op::is_infinite: unary(out, a, n, [](double x) { return truth(std::isinf(x)); }); break;
        case Op::is_finite: unary(out, a, n, [](double x) { return truth(std::isfinite(x)); }); break;
        case Op::less: binary(out, a, b, n, [](double x, double y) { return truth(x < y); }); break;
        case Op::less_equal: binary(out, a, b, n, [](double x, double y) { return truth(x <= y); }); break;
        case Op::greater: binary(out, a, b, n, [](double x, double y) { return truth(x > y); }); break;
        case Op::greater_equal: binary(out, a, b, n, [](double x, double y) { return truth(x >= y); }); break;
        case Op::equal: binary(out, a, b, n, [](double x, double y) { return truth(x == y); }); break;
        case Op::not_equal: binary(out, a, b, n, [](double x, double y) { return truth(x != y); }); break;
        case Op::logical_and: binary(out, a, b, n, [](double x, double y) { return truth(x != 0.0 && y != 0.0); }); break;
        case Op::logical_or: binary(out, a, b, n, [](double x, double y) { return truth(x != 0.0 || y != 0.0); }); break;
        case Op::logical_not: unary(out, a, n, [](double x) { return truth(x == 0.0); }); break;
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
        const std::size_t operands = sig.arity == Arity::leaf ? 0 : sig.arity == Arity::unary ? 1 : 2;
        for (std::size_t k = 0; k < operands; ++k) {
            const std::uint32_t operand = k == 0 ? node.left : node.right;
            if (operand >= i) throw std::invalid_argument("expression operands must come before their operator");
            const Kind given = predicate_[operand] ? Kind::predicate : Kind::number;
            if (given != sig.operands) {
                throw std::invalid_argument("an operator that takes " + kind_name(sig.operands) + " was given " +
                                            kind_name(given));
            }
        }
        predicate_.push_back(sig.result == Kind::predicate);
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
    : expression_(expression),
      columns_(columns),
      scratch_(expression.nodes().size() * kExprBlock),
      results_(expression.nodes().size(), nullptr) {
    common_length(columns);
    // Constants fill their block once.
    for (std::size_t i = 0; i < expression.nodes().size(); ++i) {
        const ExprNode& node = expression.nodes()[i];
        if (node.op == Op::constant) std::fill_n(&scratch_[i * kExprBlock], kExprBlock, node.constant);
    }
}

std::span<const double> BlockEvaluator::evaluate(std::size_t start, std::size_t length) {
    const auto nodes = expression_.nodes();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const ExprNode& node = nodes[i];
        double* out = &scratch_[i * kExprBlock];
        results_[i] = out;
        if (node.op == Op::column) {
            // memcpy: a column handed to a kernel may be misaligned (a slice of
            // a binary), and a block copy is cheap next to the operators.
            std::visit(
                [&](auto column) {
                    using T = typename decltype(column)::value_type;
                    const auto* bytes = reinterpret_cast<const unsigned char*>(column.data() + start);
                    for (std::size_t r = 0; r < length; ++r) {
                        T x;
                        std::memcpy(&x, bytes + r * sizeof(T), sizeof(T));
                        out[r] = static_cast<double>(x);
                    }
                },
                columns_[node.column]);
        } else if (node.op != Op::constant) {
            apply(node.op, out, results_[node.left], results_[node.right], length);
        }
    }
    return {results_.back(), length};
}

void evaluate_into(const Expression& expression, std::span<const ColumnView> columns, std::span<double> out) {
    BlockEvaluator evaluator(expression, columns);
    for (std::size_t start = 0; start < out.size(); start += kExprBlock) {
        const std::size_t length = std::min(kExprBlock, out.size() - start);
        const auto block = evaluator.evaluate(start, length);
        std::copy(block.begin(), block.end(), out.begin() + static_cast<std::ptrdiff_t>(start));
    }
}

}  // namespace analytics::kernels
