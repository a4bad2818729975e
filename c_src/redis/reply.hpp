// Redis replies, as decoded by the hiredis reader with our own object
// functions: either a flat tree (for command/pipeline), or numbers written
// straight into columns (for fetch, see column_decoder.hpp), with no object
// per element. Every reply is charged against a budget as it is decoded
// (max_reply_bytes).
#pragma once

#include <hiredis/read.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "column_decoder.hpp"

namespace analytics::redis {

// What one reply may take once decoded. An array charges for all its declared
// elements when it starts, so a length the budget cannot hold is refused
// before anything is stored, and storage can be made once, at its final size.
class ReplyBudget {
public:
    explicit ReplyBudget(std::size_t limit) : limit_(limit) {}

    // Takes `bytes`; false when they do not fit (and from then on, exceeded()).
    bool charge(std::size_t bytes) {
        if (bytes > limit_ - used_) {
            exceeded_ = true;
            return false;
        }
        used_ += bytes;
        return true;
    }
    // Marks the budget spent: memory ran out before it did.
    void refuse() { exceeded_ = true; }
    bool exceeded() const { return exceeded_; }
    std::size_t used() const { return used_; }
    void reset() {
        used_ = 0;
        exceeded_ = false;
    }

private:
    std::size_t limit_;
    std::size_t used_ = 0;
    bool exceeded_ = false;
};

// A reply for command/pipeline, stored flat in the order the reader meets its
// nodes (an array, then its elements, recursively): one block of nodes and
// one of text, however many elements, so a 5M-element reply costs 24 bytes
// per element plus its text, and its memory goes back to the system whole.
class ReplyTree {
public:
    enum class Type : std::uint8_t { string, status, error, integer, nil, array };
    struct Node {
        std::int64_t value = 0;    // integer; offset of the text; unused for nil
        std::uint64_t length = 0;  // bytes of text; elements of an array
        Type type = Type::nil;
    };
    // What each element of an array costs, charged when the array starts.
    static constexpr std::size_t kNodeBytes = sizeof(Node);

    void add_text(Type type, std::string_view text);
    void add_integer(long long value) { nodes_.push_back(Node{value, 0, Type::integer}); }
    void add_nil() { nodes_.push_back(Node{}); }
    // The root array makes room for all its elements at once (charged first).
    void add_array(std::size_t elements, bool root);

    bool empty() const { return nodes_.empty(); }
    std::size_t size() const { return nodes_.size(); }
    const Node& operator[](std::size_t index) const { return nodes_[index]; }
    const Node& root() const { return nodes_.front(); }
    // The text of a string, status or error node; empty for the others.
    std::string_view text(const Node& node) const {
        if (node.type != Type::string && node.type != Type::status && node.type != Type::error) return {};
        return std::string_view(text_).substr(static_cast<std::size_t>(node.value), node.length);
    }
    // Drops everything, memory included.
    void clear() { *this = ReplyTree(); }

private:
    std::vector<Node> nodes_;
    std::string text_;
};

// What the reader fills while one reply is read (its privdata, which the
// reader copies into every task: so it must stay put until the reply ends).
struct ReplyTarget {
    explicit ReplyTarget(std::size_t max_reply_bytes) : budget(max_reply_bytes) {}

    // Where the rest of the reply goes: a column, a tree (null), or nowhere
    // (`discard`: nobody waits for it any more; what was built is dropped).
    void aim(ColumnDecoder* column, bool discard);
    // Ready for the next reply: the tree taken or dropped, the budget full.
    void reset();

    ColumnDecoder* decoder = nullptr;
    bool discarding = false;
    ReplyTree tree;
    ReplyBudget budget;
};

// Object functions for redisReaderCreateWithFunctions. Point the reader's
// privdata at a ReplyTarget before each reply: redisReaderGetReply then gives
// a non-null marker when the reply is complete, and the reply is in the
// target. An object function that finds the budget exhausted fails the
// reader (REDIS_ERR, with target.budget.exceeded()).
redisReplyObjectFunctions* reply_functions();
// hiredis's redisReaderSetPrivdata macro casts a pointer to int: not C++.
inline void set_reply_target(redisReader* reader, ReplyTarget* target) { reader->privdata = target; }

struct ReaderFree {
    void operator()(redisReader* r) const { redisReaderFree(r); }
};
using Reader = std::unique_ptr<redisReader, ReaderFree>;

// A reader with these object functions; null only when out of memory.
Reader make_reader();

}  // namespace analytics::redis
