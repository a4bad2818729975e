#include "reply.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace analytics::redis {
namespace {

// An array's declared length is the server's word, up to 2^31: room for at
// most this many elements is made up front, and storage grows past it only
// as elements really arrive (the engine bounds a reply's bytes).
constexpr std::size_t kMaxReservedElements = std::size_t{1} << 16;

}  // namespace

ColumnDecoder::ColumnDecoder(series::Dtype dtype, ColumnLayout layout, std::string key)
    : dtype_(dtype), layout_(layout), key_(std::move(key)) {}

void ColumnDecoder::fail(std::string message) {
    if (!error_) error_ = std::move(message);
}

void ColumnDecoder::on_root_array(int elements) {
    if (layout_ == ColumnLayout::packed) return fail("key " + key_ + " holds an array, not a packed binary value");
    const auto declared = static_cast<std::size_t>(layout_ == ColumnLayout::odd_elements ? elements / 2 : elements);
    const std::size_t wanted = std::min(declared, kMaxReservedElements);
    if (dtype_ == series::Dtype::f64) {
        floats_.reserve(wanted);
    } else {
        integers_.reserve(wanted);
    }
}

void ColumnDecoder::append_text(int index, std::string_view text) {
    const char* first = text.data();
    const char* last = first + text.size();
    if (dtype_ == series::Dtype::i64) {
        std::int64_t value;
        const auto [end, ec] = std::from_chars(first, last, value);
        if (ec != std::errc() || end != last) {
            return fail("element " + std::to_string(index) + " of key " + key_ + " is not an i64: " + std::string(text));
        }
        integers_.push_back(value);
        return;
    }
    // from_chars reads Redis's non-finite scores (inf, -inf, nan) too.
    double value;
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || end != last) {
        return fail("element " + std::to_string(index) + " of key " + key_ + " is not a number: " + std::string(text));
    }
    floats_.push_back(value);
}

void ColumnDecoder::on_string(bool at_root, int index, std::string_view text, int type) {
    if (type == REDIS_REPLY_ERROR) {
        server_error_ = at_root;
        return fail(std::string(text));
    }
    if (!at_root) {
        if (layout_ == ColumnLayout::odd_elements && index % 2 == 0) return;  // a member, not a score
        return append_text(index, text);
    }
    if (layout_ != ColumnLayout::packed) return fail("key " + key_ + " holds a single value, not an array");
    if (text.size() % 8 != 0) {
        return fail("key " + key_ + " holds " + std::to_string(text.size()) +
                    " bytes, not a whole number of 8-byte values");
    }
    const std::size_t n = text.size() / 8;
    if (dtype_ == series::Dtype::f64) {
        floats_.resize(n);
        if (n) std::memcpy(floats_.data(), text.data(), text.size());
    } else {
        integers_.resize(n);
        if (n) std::memcpy(integers_.data(), text.data(), text.size());
    }
}

void ColumnDecoder::on_integer(bool at_root, int index, long long value) {
    if (at_root) return fail("key " + key_ + " gave an integer reply, not numbers");
    if (dtype_ == series::Dtype::f64) {
        floats_.push_back(static_cast<double>(value));
    } else {
        integers_.push_back(value);
    }
    (void)index;
}

void ColumnDecoder::on_nil(bool at_root, int index) {
    // A missing key is an empty series, as Redis treats a missing list.
    if (at_root) return;
    if (dtype_ == series::Dtype::f64) {
        floats_.push_back(std::numeric_limits<double>::quiet_NaN());
    } else {
        fail("element " + std::to_string(index) + " of key " + key_ + " is missing (nil) and :i64 has no NaN");
    }
}

std::variant<series::ColumnData, std::string> ColumnDecoder::finish() {
    if (error_) return *error_;
    if (dtype_ == series::Dtype::f64) return series::ColumnData(std::move(floats_));
    return series::ColumnData(std::move(integers_));
}

namespace {

// What the reader holds for every object of a column reply: the numbers live
// in the request's decoder, so there is nothing per element to own or free.
char column_sentinel;

ColumnDecoder* decoder_of(const redisReadTask* task) {
    auto* target = static_cast<ReplyTarget*>(task->privdata);
    return target ? target->decoder : nullptr;
}

bool at_root(const redisReadTask* task) { return task->parent == nullptr; }

// Tree mode: attach a new node to its parent array (which owns it from then
// on) and hand the reader a plain pointer; the root is owned by whoever takes
// it from redisReaderGetReply, or freed by the reader on error.
void* attach(const redisReadTask* task, std::unique_ptr<Reply> node) {
    Reply* raw = node.get();
    if (task->parent) {
        auto& siblings = static_cast<Reply*>(task->parent->obj)->elements;
        const auto index = static_cast<std::size_t>(task->idx);
        if (siblings.size() <= index) siblings.resize(index + 1);
        siblings[index] = std::move(node);
    } else {
        node.release();
    }
    return raw;
}

void* create_string(const redisReadTask* task, char* text, size_t length) {
    if (ColumnDecoder* decoder = decoder_of(task)) {
        decoder->on_string(at_root(task), task->idx, std::string_view(text, length), task->type);
        return &column_sentinel;
    }
    auto node = std::make_unique<Reply>();
    node->type = task->type == REDIS_REPLY_ERROR    ? Reply::Type::error
                 : task->type == REDIS_REPLY_STATUS ? Reply::Type::status
                                                    : Reply::Type::string;
    node->text.assign(text, length);
    return attach(task, std::move(node));
}

void* create_array(const redisReadTask* task, int elements) {
    if (ColumnDecoder* decoder = decoder_of(task)) {
        if (at_root(task)) {
            decoder->on_root_array(elements);
        } else {
            decoder->on_string(false, task->idx, "(nested array)", REDIS_REPLY_STRING);
        }
        return &column_sentinel;
    }
    auto node = std::make_unique<Reply>();
    node->type = Reply::Type::array;
    node->elements.reserve(std::min(static_cast<std::size_t>(elements), kMaxReservedElements));
    return attach(task, std::move(node));
}

void* create_integer(const redisReadTask* task, long long value) {
    if (ColumnDecoder* decoder = decoder_of(task)) {
        decoder->on_integer(at_root(task), task->idx, value);
        return &column_sentinel;
    }
    auto node = std::make_unique<Reply>();
    node->type = Reply::Type::integer;
    node->integer = value;
    return attach(task, std::move(node));
}

void* create_nil(const redisReadTask* task) {
    if (ColumnDecoder* decoder = decoder_of(task)) {
        decoder->on_nil(at_root(task), task->idx);
        return &column_sentinel;
    }
    return attach(task, std::make_unique<Reply>());
}

// The reader frees only roots, after an error; a tree root owns its children.
void free_object(void* object) {
    if (object != &column_sentinel) delete static_cast<Reply*>(object);
}

redisReplyObjectFunctions functions = {create_string, create_array, create_integer, create_nil, free_object};

}  // namespace

redisReplyObjectFunctions* reply_functions() { return &functions; }

Reader make_reader() { return Reader(redisReaderCreateWithFunctions(reply_functions())); }

std::unique_ptr<Reply> reply_from_root(void* root) {
    if (root == &column_sentinel) return nullptr;
    return std::unique_ptr<Reply>(static_cast<Reply*>(root));
}

}  // namespace analytics::redis
