// Expression trees as Analytics.Expr sends them, decoded into checked kernel
// expressions.
#pragma once

#include <erl_nif.h>

#include <optional>

#include "../kernels/expression.hpp"

namespace analytics::nif {

// {:column, index} | {:constant, number} | {op, operand} | {op, left, right}
// | {:select, condition, if_true, if_false}; integer constants stay i64.
// Throws std::invalid_argument naming the offending part.
kernels::Expression decode_expression(ErlNifEnv* env, ERL_NIF_TERM tree, std::size_t column_count);

// nil, or an expression tree.
std::optional<kernels::Expression> decode_optional_expression(ErlNifEnv* env, ERL_NIF_TERM term,
                                                              std::size_t column_count);

// Nodes in a tree, stopping past the limit; cheap enough for a cost estimate.
std::size_t expression_size(ErlNifEnv* env, ERL_NIF_TERM tree);

}  // namespace analytics::nif
