// A small expression language over numeric columns (Weld's map/filter fusion,
// interpreted a block at a time): a validated tree of operators, evaluated
// over ~1k rows per operator so the per-node dispatch cost is amortised.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "column_view.hpp"

namespace analytics::kernels {

enum class Op : std::uint8_t {
    column,    // the input column `column`
    constant,  // `constant`
    // numbers -> number
    add, subtract, multiply, divide, negate, abs, sqrt, log, exp, pow, min, max, floor, ceil,
    // numbers -> predicate
    less, less_equal, greater, greater_equal, equal, not_equal, is_nan, is_infinite, is_finite,
    // predicates -> predicate
    logical_and, logical_or, logical_not,
};

// One node; operands are indices of earlier nodes (the tree in post-order, root last).
struct ExprNode {
    Op op;
    std::uint32_t left = 0;
    std::uint32_t right = 0;
    std::uint32_t column = 0;
    double constant = 0.0;
};

// A checked expression. Every node has a type: a number, or a predicate
// (true/false). Arithmetic takes numbers, and/or/not take predicates.
class Expression {
public:
    // Throws std::invalid_argument for operands out of order, a column index
    // not below `column_count`, or an operand of the wrong type.
    Expression(std::vector<ExprNode> nodes, std::size_t column_count);

    bool is_predicate() const { return predicate_.back(); }
    std::span<const ExprNode> nodes() const { return nodes_; }

private:
    std::vector<ExprNode> nodes_;
    std::vector<bool> predicate_;
};

// Rows per evaluation block: small enough that every node's block stays in L1/L2.
inline constexpr std::size_t kExprBlock = 1024;

// Evaluates an expression over equally long columns, block by block. Numbers
// come out as doubles (i64 columns are converted); predicates as 1.0 / 0.0.
class BlockEvaluator {
public:
    // Throws std::invalid_argument when the columns differ in length.
    BlockEvaluator(const Expression& expression, std::span<const ColumnView> columns);

    // The values of rows [start, start + length), length <= kExprBlock. The
    // span stays valid until the next call.
    std::span<const double> evaluate(std::size_t start, std::size_t length);

private:
    const Expression& expression_;
    std::span<const ColumnView> columns_;
    std::vector<double> scratch_;  // one block per node
    std::vector<const double*> results_;
};

// The common length of `columns`; throws std::invalid_argument if they differ.
std::size_t common_length(std::span<const ColumnView> columns);

// A whole column through an expression (Analytics.map/2); `out` has the
// columns' common length.
void evaluate_into(const Expression& expression, std::span<const ColumnView> columns, std::span<double> out);

}  // namespace analytics::kernels
