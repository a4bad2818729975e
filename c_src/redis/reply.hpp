// Redis replies, as decoded by the hiredis reader with our own object
// functions: either a small tree (for command/pipeline), or numbers written
// straight into a column (for fetch), with no object per element.
#pragma once

#include <hiredis/read.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "../series/series.hpp"

namespace analytics::redis {

struct Reply {
    enum class Type { string, status, error, integer, nil, array };
    Type type = Type::nil;
    std::string text;  // string, status, error
    long long integer = 0;
    std::vector<std::unique_ptr<Reply>> elements;
};

// How a fetch decodes its reply into numbers.
enum class ColumnLayout {
    packed,        // one bulk string of native-endian 8-byte values (GET)
    elements,      // an array of decimal strings (LRANGE, HVALS, MGET)
    odd_elements,  // [member, score, member, score, ...]: the scores (ZRANGE WITHSCORES)
};

// Numbers decoded while the reply is read. On a bad element the decoder keeps
// consuming the reply (the connection must stay in sync) and records the first
// problem in `error`.
class ColumnDecoder {
public:
    ColumnDecoder(series::Dtype dtype, ColumnLayout layout, std::string key);

    void on_root_array(int elements);
    void on_string(bool at_root, int index, std::string_view text, int type);
    void on_integer(bool at_root, int index, long long value);
    void on_nil(bool at_root, int index);

    // The column, or the reply's error / the decoding problem.
    std::variant<series::ColumnData, std::string> finish();
    // Whether the error came from the server (-ERR) rather than decoding.
    bool server_error() const { return server_error_; }

private:
    void fail(std::string message);
    void append_text(int index, std::string_view text);

    series::Dtype dtype_;
    ColumnLayout layout_;
    std::string key_;
    series::AlignedVector<double> floats_;
    series::AlignedVector<std::int64_t> integers_;
    std::optional<std::string> error_;
    bool server_error_ = false;
};

// What the reader's privdata points at while one request's reply is read.
struct ReplyTarget {
    ColumnDecoder* decoder = nullptr;  // null: build a Reply tree
};

// Object functions for redisReaderCreateWithFunctions. Set the reader's
// privdata to a ReplyTarget before each reply. reply_from_root takes ownership
// of what redisReaderGetReply returned: a tree root, or null in column mode.
redisReplyObjectFunctions* reply_functions();
// hiredis's redisReaderSetPrivdata macro casts a pointer to int: not C++.
inline void set_reply_target(redisReader* reader, ReplyTarget* target) { reader->privdata = target; }
std::unique_ptr<Reply> reply_from_root(void* root);

struct ReaderFree {
    void operator()(redisReader* r) const { redisReaderFree(r); }
};
using Reader = std::unique_ptr<redisReader, ReaderFree>;

// A reader with these object functions; null only when out of memory.
Reader make_reader();

}  // namespace analytics::redis
