#include "expression_terms.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "atoms.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

using kernels::ExprNode;
using kernels::Op;

// Bounds the recursion (it runs on a scheduler's stack) and the work per row.
constexpr std::size_t kMaxDepth = 64;
constexpr std::size_t kMaxNodes = 1024;

struct Named {
    const char* name;
    Op op;
    int arity;
};

constexpr Named kOperators[] = {
    {"add", Op::add, 2},           {"subtract", Op::subtract, 2},
    {"multiply", Op::multiply, 2}, {"divide", Op::divide, 2},
    {"pow", Op::pow, 2},           {"min", Op::min, 2},
    {"max", Op::max, 2},           {"div", Op::int_div, 2},
    {"rem", Op::int_rem, 2},       {"negate", Op::negate, 1},
    {"abs", Op::abs, 1},           {"sqrt", Op::sqrt, 1},
    {"log", Op::log, 1},           {"log10", Op::log10, 1},
    {"exp", Op::exp, 1},           {"floor", Op::floor, 1},
    {"ceil", Op::ceil, 1},         {"round", Op::round, 1},
    {"less", Op::less, 2},         {"less_equal", Op::less_equal, 2},
    {"greater", Op::greater, 2},   {"greater_equal", Op::greater_equal, 2},
    {"equal", Op::equal, 2},       {"not_equal", Op::not_equal, 2},
    {"is_nan", Op::is_nan, 1},     {"is_infinite", Op::is_infinite, 1},
    {"is_finite", Op::is_finite, 1}, {"and", Op::logical_and, 2},
    {"or", Op::logical_or, 2},     {"not", Op::logical_not, 1},
    {"select", Op::select, 3},
};

class Decoder {
public:
    Decoder(ErlNifEnv* env, std::size_t column_count) : env_(env), column_count_(column_count) {}

    std::uint32_t node(ERL_NIF_TERM term, std::size_t depth) {
        if (depth > kMaxDepth) throw std::invalid_argument("expression nests deeper than " + std::to_string(kMaxDepth));
        int arity;
        const ERL_NIF_TERM* items;
        if (!enif_get_tuple(env_, term, &arity, &items) || arity < 2 || arity > 4) {
            throw std::invalid_argument("not an expression node: " + describe(env_, term));
        }
        ExprNode out{Op::constant};
        ErlNifSInt64 integer;
        if (arity == 2 && enif_is_identical(items[0], atoms::constant) && enif_get_int64(env_, items[1], &integer)) {
            // Kept exact: integer arithmetic on i64 columns stays i64.
            out.op = Op::integer;
            out.integer = integer;
        } else if (arity == 2 && enif_is_identical(items[0], atoms::constant)) {
            out.constant = decode_double(env_, items[1], "an expression constant");
        } else if (arity == 2 && enif_is_identical(items[0], atoms::column)) {
            out.op = Op::column;
            const std::size_t index = decode_size(env_, items[1], "an expression column index");
            if (index >= column_count_) {
                throw std::invalid_argument("expression column " + std::to_string(index) + " is not among the " +
                                            std::to_string(column_count_) + " input columns");
            }
            out.column = static_cast<std::uint32_t>(index);
        } else {
            const Named& named = operator_of(items[0], arity - 1, term);
            out.op = named.op;
            out.left = node(items[1], depth + 1);
            if (arity >= 3) out.right = node(items[2], depth + 1);
            if (arity == 4) out.third = node(items[3], depth + 1);
        }
        if (nodes_.size() >= kMaxNodes) {
            throw std::invalid_argument("expression has more than " + std::to_string(kMaxNodes) + " nodes");
        }
        nodes_.push_back(out);
        return static_cast<std::uint32_t>(nodes_.size() - 1);
    }

    std::vector<ExprNode> take() { return std::move(nodes_); }

private:
    const Named& operator_of(ERL_NIF_TERM name, int operands, ERL_NIF_TERM term) {
        char buffer[32];
        if (enif_get_atom(env_, name, buffer, sizeof buffer, ERL_NIF_LATIN1) > 0) {
            for (const Named& named : kOperators) {
                if (std::string_view(buffer) != named.name) continue;
                if (named.arity == operands) return named;
                throw std::invalid_argument(std::string(named.name) + " takes " + std::to_string(named.arity) +
                                            " operand(s), got: " + describe(env_, term));
            }
        }
        throw std::invalid_argument("unknown expression operator in: " + describe(env_, term));
    }

    ErlNifEnv* env_;
    std::size_t column_count_;
    std::vector<ExprNode> nodes_;
};

}  // namespace

kernels::Expression decode_expression(ErlNifEnv* env, ERL_NIF_TERM tree, std::size_t column_count) {
    Decoder decoder(env, column_count);
    decoder.node(tree, 0);
    return kernels::Expression(decoder.take(), column_count);
}

std::optional<kernels::Expression> decode_optional_expression(ErlNifEnv* env, ERL_NIF_TERM term,
                                                              std::size_t column_count) {
    if (enif_is_identical(term, atoms::nil)) return std::nullopt;
    return decode_expression(env, term, column_count);
}

std::size_t expression_size(ErlNifEnv* env, ERL_NIF_TERM tree) {
    std::size_t count = 0;
    std::vector<ERL_NIF_TERM> pending{tree};
    while (!pending.empty() && count <= kMaxNodes) {
        const ERL_NIF_TERM term = pending.back();
        pending.pop_back();
        ++count;
        int arity;
        const ERL_NIF_TERM* items;
        if (!enif_get_tuple(env, term, &arity, &items)) continue;
        for (int i = 1; i < arity; ++i) {
            if (enif_is_tuple(env, items[i])) pending.push_back(items[i]);
        }
    }
    return count;
}

}  // namespace analytics::nif
