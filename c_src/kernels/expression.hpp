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
    constant,  // `constant`, a double
    integer,   // `integer`, an i64 constant
    // numbers -> number
    add, subtract, multiply, divide, negate, abs, sqrt, log, log10, exp, pow, min, max, floor, ceil, round,
    int_div, int_rem,
    // numbers -> predicate
    less, less_equal, greater, greater_equal, equal, not_equal, is_nan, is_infinite, is_finite,
    // predicates -> predicate
    logical_and, logical_or, logical_not,
    // predicate, a, b -> a or b row by row; a and b both numbers or both predicates
    select,
};

// One node; operands are indices of earlier nodes (the tree in post-order, root last).
struct ExprNode {
    Op op;
    std::uint32_t left = 0;
    std::uint32_t right = 0;
    std::uint32_t column = 0;
    double constant = 0.0;
    std::uint32_t third = 0;    // select's second branch (left is the condition, right the first)
    std::int64_t integer = 0;  // Op::integer's value
};

// A checked expression. Every node has a kind: a number, or a predicate
// (true/false). Arithmetic takes numbers, and/or/not take predicates.
class Expression {
public:
    // Throws std::invalid_argument for operands out of order, a column index
    // not below `column_count`, or an operand of the wrong kind.
    Expression(std::vector<ExprNode> nodes, std::size_t column_count);

    bool is_predicate() const { return predicate_.back(); }
    bool is_predicate(std::size_t node) const { return predicate_[node]; }
    std::span<const ExprNode> nodes() const { return nodes_; }

private:
    std::vector<ExprNode> nodes_;
    std::vector<bool> predicate_;
};

// What a node computes once the columns' dtypes are known. A number is i64
// when every operand is (integer columns, integer constants) and its
// operator is closed over the integers; otherwise f64.
enum class ValueType : std::uint8_t { f64, i64, predicate };

// Rows per evaluation block: small enough that every node's block stays in L1/L2.
inline constexpr std::size_t kExprBlock = 1024;

// Evaluates an expression over equally long columns, block by block.
// Integer arithmetic is exact and checked: a result beyond the signed 64-bit
// range, or div/rem by zero, throws std::invalid_argument naming the row.
// Comparisons are exact between any two operands (an i64 against an f64
// included). Predicates come out as 1.0 / 0.0.
class BlockEvaluator {
public:
    // Throws std::invalid_argument when the columns differ in length.
    BlockEvaluator(const Expression& expression, std::span<const ColumnView> columns);

    ValueType result_type() const { return types_.back(); }

    // The values of rows [start, start + length), length <= kExprBlock, as
    // doubles (an i64 result converted). The span stays valid until the next call.
    std::span<const double> evaluate(std::size_t start, std::size_t length);

    // Same, for an i64 result (result_type() == ValueType::i64).
    std::span<const std::int64_t> evaluate_i64(std::size_t start, std::size_t length);

private:
    void run(std::size_t start, std::size_t length);
    void apply_f64(const ExprNode& node, std::size_t index, std::size_t length);
    void apply_i64(const ExprNode& node, std::size_t index, std::size_t start, std::size_t length);
    void compare(const ExprNode& node, std::size_t index, std::size_t length);

    const Expression& expression_;
    std::span<const ColumnView> columns_;
    std::vector<ValueType> types_;
    std::vector<double> f64_scratch_;        // one block per node that has an f64 form
    std::vector<std::int64_t> i64_scratch_;  // one block per i64 node
    std::vector<double*> f64_;               // per node: its f64 (or predicate) block, or null
    std::vector<std::int64_t*> i64_;         // per node: its i64 block, or null
};

// The common length of `columns`; throws std::invalid_argument if they differ.
std::size_t common_length(std::span<const ColumnView> columns);

// A whole column through an expression (Analytics.map/2); `out` has the
// columns' common length and the evaluator's result type (f64 or i64).
void evaluate_into(BlockEvaluator& evaluator, std::span<double> out);
void evaluate_into(BlockEvaluator& evaluator, std::span<std::int64_t> out);

// The expression as doubles over whole columns, whatever its type.
void evaluate_into(const Expression& expression, std::span<const ColumnView> columns, std::span<double> out);

// The rows where a predicate holds, in order (Analytics.filter/2).
std::vector<std::size_t> selected_rows(const Expression& predicate, std::span<const ColumnView> columns);

}  // namespace analytics::kernels
