#include "reply.hpp"

#include <new>

namespace analytics::redis {

void ReplyTree::add_text(Type type, std::string_view text) {
    nodes_.push_back(Node{static_cast<std::int64_t>(text_.size()), text.size(), type});
    text_.append(text);
}

void ReplyTree::add_array(std::size_t elements, bool root) {
    if (root) nodes_.reserve(1 + elements);
    nodes_.push_back(Node{0, elements, Type::array});
}

void ReplyTarget::aim(ColumnDecoder* column, bool discard) {
    if (discard && !discarding) tree.clear();
    decoder = discard ? nullptr : column;
    discarding = discard;
}

void ReplyTarget::reset() {
    tree.clear();
    budget.reset();
    decoder = nullptr;
    discarding = false;
}

namespace {

// What the reader holds for every object: the reply lives in the target, so
// there is nothing per element to own or free.
char marker;

ReplyTarget& target_of(const redisReadTask* task) { return *static_cast<ReplyTarget*>(task->privdata); }

bool at_root(const redisReadTask* task) { return task->parent == nullptr; }

// At most 7 (hiredis nests no deeper).
int depth_of(const redisReadTask* task) {
    int depth = 0;
    for (const redisReadTask* parent = task->parent; parent; parent = parent->parent) ++depth;
    return depth;
}

// Elements are paid for by their array; a root pays for its own node, and
// text for its bytes. Null tells the reader to stop (the budget is spent).
void* charged(ReplyTarget& target, const redisReadTask* task, std::size_t text_bytes) {
    const std::size_t node = at_root(task) && !target.decoder ? ReplyTree::kNodeBytes : 0;
    return target.budget.charge(node + text_bytes) ? &marker : nullptr;
}

// The reader is C: no exception may cross it. A reply the budget allows but
// memory does not (a limit set past what the machine has) is too large too.
template <typename Create>
void* guarded(const redisReadTask* task, Create create) noexcept {
    try {
        return create(target_of(task));
    } catch (const std::bad_alloc&) {
        target_of(task).budget.refuse();
        return nullptr;
    }
}

void* store_string(ReplyTarget& target, const redisReadTask* task, char* text, size_t length) {
    // A column keeps none of an element's text, only a packed root's bytes.
    const std::size_t kept = target.decoder && !at_root(task) ? 0 : length;
    void* object = charged(target, task, kept);
    if (!object || target.discarding) return object;
    if (ColumnDecoder* decoder = target.decoder) {
        decoder->on_string(depth_of(task), task->idx, std::string_view(text, length), task->type);
    } else {
        target.tree.add_text(task->type == REDIS_REPLY_ERROR    ? ReplyTree::Type::error
                             : task->type == REDIS_REPLY_STATUS ? ReplyTree::Type::status
                                                                : ReplyTree::Type::string,
                             std::string_view(text, length));
    }
    return object;
}

void* store_array(ReplyTarget& target, const redisReadTask* task, int elements) {
    ColumnDecoder* decoder = target.decoder;
    const std::size_t element_bytes = decoder ? decoder->bytes_for(depth_of(task), elements)
                                              : static_cast<std::size_t>(elements) * ReplyTree::kNodeBytes;
    void* object = charged(target, task, element_bytes);
    if (!object || target.discarding) return object;
    if (!decoder) {
        target.tree.add_array(static_cast<std::size_t>(elements), at_root(task));
    } else {
        decoder->on_array(depth_of(task), task->idx, elements);
    }
    return object;
}

void* store_integer(ReplyTarget& target, const redisReadTask* task, long long value) {
    void* object = charged(target, task, 0);
    if (!object || target.discarding) return object;
    if (ColumnDecoder* decoder = target.decoder) {
        decoder->on_integer(depth_of(task), task->idx, value);
    } else {
        target.tree.add_integer(value);
    }
    return object;
}

void* store_nil(ReplyTarget& target, const redisReadTask* task) {
    void* object = charged(target, task, 0);
    if (!object || target.discarding) return object;
    if (ColumnDecoder* decoder = target.decoder) {
        decoder->on_nil(depth_of(task), task->idx);
    } else {
        target.tree.add_nil();
    }
    return object;
}

void* create_string(const redisReadTask* task, char* text, size_t length) {
    return guarded(task, [&](ReplyTarget& target) { return store_string(target, task, text, length); });
}

void* create_array(const redisReadTask* task, int elements) {
    return guarded(task, [&](ReplyTarget& target) { return store_array(target, task, elements); });
}

void* create_integer(const redisReadTask* task, long long value) {
    return guarded(task, [&](ReplyTarget& target) { return store_integer(target, task, value); });
}

void* create_nil(const redisReadTask* task) {
    return guarded(task, [&](ReplyTarget& target) { return store_nil(target, task); });
}

// Nothing to free: the target owns what was built, and reset() drops it.
void free_object(void*) {}

redisReplyObjectFunctions functions = {create_string, create_array, create_integer, create_nil, free_object};

}  // namespace

redisReplyObjectFunctions* reply_functions() { return &functions; }

Reader make_reader() { return Reader(redisReaderCreateWithFunctions(reply_functions())); }

}  // namespace analytics::redis
