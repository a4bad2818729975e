#include "reduce_nif.hpp"

#include <optional>
#include <vector>

#include "../kernels/dispatch.hpp"
#include "../kernels/fused_reduce.hpp"
#include "../kernels/stream_reduce.hpp"
#include "column_terms.hpp"
#include "expression_terms.hpp"
#include "reducer_terms.hpp"
#include "schedule.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

ERL_NIF_TERM encode_values(ErlNifEnv* env, const std::vector<kernels::ReduceValue>& values) {
    std::vector<ERL_NIF_TERM> terms;
    terms.reserve(values.size());
    for (const auto& value : values) terms.push_back(encode_value(env, value));
    return enif_make_list_from_array(env, terms.data(), static_cast<unsigned>(terms.size()));
}

double reduce_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    return column_cost(env, argv[0], per_element_cost(decode_reducers(env, argv[1])));
}

// A plain list reduced block by block as it is read: no column is ever built.
class StreamedList final : public NumberBlocks {
public:
    explicit StreamedList(std::span<const kernels::Reducer> reducers) : reducers_(reducers) {}

    bool needs_length() const override { return false; }
    void start(series::Dtype, std::size_t) override { reduction_.emplace(reducers_, kernels::active_simd()); }
    void block(kernels::ColumnView values) override {
        std::visit([this](auto span) { reduction_->add(span); }, values);
    }
    std::vector<kernels::ReduceValue> finish() const { return reduction_->finish(); }

private:
    std::span<const kernels::Reducer> reducers_;
    std::optional<kernels::StreamReduce> reduction_;
};

ERL_NIF_TERM reduce_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const auto reducers = decode_reducers(env, argv[1]);
    if (enif_is_list(env, argv[0]) && kernels::StreamReduce::supports(reducers)) {
        StreamedList list(reducers);
        read_number_list(env, argv[0], ListDtype::infer, list);
        return encode_values(env, list.finish());
    }
    const series::Series column = decode_column(env, argv[0]);
    return encode_values(env, kernels::reduce(column.view(), reducers, kernels::active_simd()));
}

// argv: columns, map tree or nil, where tree or nil, reducers
double fused_reduce_cost(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const double nodes = static_cast<double>(expression_size(env, argv[1]) + expression_size(env, argv[2]));
    const double per_row = per_element_cost(decode_reducers(env, argv[3])) + nodes * cost::expression_node;
    return columns_cost(env, argv[0], per_row);
}

ERL_NIF_TERM fused_reduce_body(ErlNifEnv* env, const ERL_NIF_TERM argv[]) {
    const Columns columns = decode_columns(env, argv[0]);
    const auto map = decode_optional_expression(env, argv[1], columns.views.size());
    const auto where = decode_optional_expression(env, argv[2], columns.views.size());
    const auto reducers = decode_reducers(env, argv[3]);
    const kernels::FusedQuery query{map ? &*map : nullptr, where ? &*where : nullptr};
    return encode_values(env, kernels::fused_reduce(columns.views, query, reducers, kernels::active_simd()));
}

}  // namespace

ERL_NIF_TERM reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<reduce_body, reduce_cost>(env, argc, argv);
}

ERL_NIF_TERM fused_reduce(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return scheduled<fused_reduce_body, fused_reduce_cost>(env, argc, argv);
}

}  // namespace analytics::nif
