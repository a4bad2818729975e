#include "redis_terms.hpp"

#include <vector>

#include "atoms.hpp"
#include "series_resource.hpp"
#include "terms.hpp"

namespace analytics::nif {

ERL_NIF_TERM make_redis_error(ErlNifEnv* env, std::string_view message) {
    return make_exception(env, atoms::redis_error, atoms::message, make_binary(env, message));
}

// Every field of the Elixir struct (0 stands for nil). `address` is filled
// in here for calls made while the engine is not connected, and by Elixir,
// which knows the endpoint, when start_link's connect failed.
ERL_NIF_TERM make_connection_error(ErlNifEnv* env, ERL_NIF_TERM reason, ERL_NIF_TERM address, ERL_NIF_TERM cause) {
    ERL_NIF_TERM keys[] = {atoms::struct_, atoms::exception, atoms::reason, atoms::address, atoms::cause};
    ERL_NIF_TERM values[] = {atoms::redis_connection_error, atoms::true_, reason, address ? address : atoms::nil,
                             cause ? cause : atoms::nil};
    ERL_NIF_TERM map;
    enif_make_map_from_arrays(env, keys, values, 5, &map);
    return map;
}

ERL_NIF_TERM failure_reason(redis::FailureKind kind) {
    switch (kind) {
        case redis::FailureKind::timeout: return atoms::timeout;
        case redis::FailureKind::disconnected: return atoms::disconnected;
        case redis::FailureKind::closed: return atoms::closed;
        case redis::FailureKind::protocol_error: return atoms::protocol_error;
        case redis::FailureKind::reply_too_large: return atoms::reply_too_large;
    }
    return atoms::closed;
}

namespace {

// `next` walks the tree's nodes in order; nesting is at most 7 deep (hiredis).
ERL_NIF_TERM node_to_term(ErlNifEnv* env, const redis::ReplyTree& tree, std::size_t& next) {
    using Type = redis::ReplyTree::Type;
    const redis::ReplyTree::Node& node = tree[next++];
    switch (node.type) {
        case Type::string:
        case Type::status: return make_binary(env, tree.text(node));
        case Type::error: return make_redis_error(env, tree.text(node));
        case Type::integer: return enif_make_int64(env, node.value);
        case Type::nil: return atoms::nil;
        case Type::array: {
            std::vector<ERL_NIF_TERM> items;
            items.reserve(node.length);
            for (std::uint64_t i = 0; i < node.length; ++i) items.push_back(node_to_term(env, tree, next));
            return enif_make_list_from_array(env, items.data(), static_cast<unsigned>(items.size()));
        }
    }
    return atoms::nil;
}

}  // namespace

ERL_NIF_TERM reply_to_term(ErlNifEnv* env, const redis::ReplyTree& tree) {
    std::size_t next = 0;
    return tree.empty() ? atoms::nil : node_to_term(env, tree, next);
}

bool is_error_slot(const redis::SlotResult& slot) {
    if (std::holds_alternative<redis::SlotError>(slot)) return true;
    const auto* tree = std::get_if<redis::ReplyTree>(&slot);
    return tree && !tree->empty() && tree->root().type == redis::ReplyTree::Type::error;
}

ERL_NIF_TERM slot_to_term(ErlNifEnv* env, redis::SlotResult& slot) {
    if (auto* tree = std::get_if<redis::ReplyTree>(&slot)) return reply_to_term(env, *tree);
    if (auto* error = std::get_if<redis::SlotError>(&slot)) return make_redis_error(env, error->message);
    if (auto* set = std::get_if<redis::ColumnSet>(&slot)) {
        std::vector<ERL_NIF_TERM> columns;
        columns.reserve(set->columns.size());
        for (auto& column : set->columns) columns.push_back(make_series(env, series::Series(std::move(column))));
        return enif_make_tuple_from_array(env, columns.data(), static_cast<unsigned>(columns.size()));
    }
    return make_series(env, series::Series(std::move(std::get<series::ColumnData>(slot))));
}

}  // namespace analytics::nif
