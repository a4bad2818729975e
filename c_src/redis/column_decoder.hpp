// Numbers decoded straight from a Redis reply into columns, element by
// element as the reader meets them (fetch): the layouts a reply may have, and
// how a bad element is named.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "../series/series.hpp"

namespace analytics::redis {

// How a fetch decodes its reply into numbers.
enum class ColumnLayout {
    packed,              // one bulk string of native-endian 8-byte values (GET)
    elements,            // an array of decimal strings (LRANGE, HVALS, MGET)
    odd_elements,        // [member, score, member, score, ...]: the scores (ZRANGE WITHSCORES)
    member_score_pairs,  // the same reply into two columns: members and scores
    field_value_pairs,   // [field, value, field, value, ...] into two columns (HGETALL)
    stream_fields,       // [[id, [field, value, ...]], ...]: ids and the fields asked for (XRANGE)
};

// What a fetch asked for, so that a bad element is named the way the user
// would look it up: a list index or rank, or the MGET key it belongs to.
struct ElementNames {
    std::optional<std::pair<long long, long long>> range;  // LRANGE/ZRANGE start and stop
    std::vector<std::string> keys;                         // MGET: element i is keys[i]'s value
};

// One column of numbers, appended as Redis's decimal text is read.
class NumberColumn {
public:
    explicit NumberColumn(series::Dtype dtype) : dtype_(dtype) {}

    void reserve(std::size_t values);
    // Reads `text` as Redis reads numbers; false when it is not one of dtype.
    bool append_text(std::string_view text);
    void append_integer(long long value);
    // NaN for f64; false for i64, which has none.
    bool append_nil();
    // `bytes` holds whole native-endian 8-byte values.
    void assign_packed(std::string_view bytes);
    // A packed value received straight into storage of this dtype.
    void assign(series::ColumnData data);
    std::size_t size() const;
    series::Dtype dtype() const { return dtype_; }
    series::ColumnData take();

private:
    series::Dtype dtype_;
    series::AlignedVector<double> floats_;
    series::AlignedVector<std::int64_t> integers_;
};

// The columns of a layout that has several, of equal length: a pair layout's
// two, or a stream's ids and then one per field asked for.
struct ColumnSet {
    std::vector<series::ColumnData> columns;
};

// What a fetch's reply decodes to: a column, several, or the problem met.
using Decoded = std::variant<series::ColumnData, ColumnSet, std::string>;

// Numbers decoded while the reply is read. On a bad element the decoder keeps
// consuming the reply (the connection must stay in sync) and records the first
// problem in `error`.
class ColumnDecoder {
public:
    // `second` is the dtype of a pair layout's second column (scores, values);
    // `fields` are the stream fields to decode, a column of `second` each.
    ColumnDecoder(series::Dtype dtype, ColumnLayout layout, std::string key, ElementNames names = {},
                  series::Dtype second = series::Dtype::f64, std::vector<std::string> fields = {});

    // Where an element is: `depth` 0 is the reply itself, 1 its elements, 2
    // theirs (a stream entry's id and field list), 3 a field or value.
    // The bytes an array of `elements` adds to the column(s).
    std::size_t bytes_for(int depth, int elements) const;
    void on_array(int depth, int index, int elements);
    void on_string(int depth, int index, std::string_view text, int type);
    void on_integer(int depth, int index, long long value);
    void on_nil(int depth, int index);

    // A packed layout (GET) may have its bulk payload received straight into
    // a column of dtype(), handed over whole (see ReplyReceiver).
    bool packed() const { return layout_ == ColumnLayout::packed; }
    series::Dtype dtype() const { return first_.dtype(); }
    void take_packed(series::ColumnData data) { first_.assign(std::move(data)); }

    // The column (several for a pair or stream layout), or the reply's error /
    // the decoding problem.
    Decoded finish();
    // Whether the error came from the server (-ERR) rather than decoding.
    bool server_error() const { return server_error_; }

private:
    bool pairs() const {
        return layout_ == ColumnLayout::member_score_pairs || layout_ == ColumnLayout::field_value_pairs;
    }
    // Where reply element `index` goes: a pair's second element to second_.
    NumberColumn& column_for(int index) { return pairs() && index % 2 == 1 ? second_ : first_; }
    void fail(std::string message);
    void append_text(int index, std::string_view text);
    std::string element_name(int index) const;
    std::string ranked_name(const std::string& what, long long position) const;
    std::string key_name() const;
    // Stream entries (XRANGE): [[id, [field, value, ...]], ...].
    void on_stream_array(int depth, int index, int elements);
    void on_stream_string(int depth, int index, std::string_view text);
    // The column of the value read next (at depth 3, odd index); null for a
    // field not asked for, or asked for and already read in this entry.
    NumberColumn* stream_column(int depth, int index);
    std::string stream_value_name() const;
    void fill_missing_fields();
    // `index` at `depth`: the entry is the index itself at depth 1.
    void fail_not_an_entry(int depth, int index);

    ColumnLayout layout_;
    std::string key_;
    ElementNames names_;
    long long elements_ = 0;  // declared by the root array (scores or pairs, for WITHSCORES)
    NumberColumn first_;      // stream layout: the ids' milliseconds
    NumberColumn second_;     // pair layouts only
    std::string field_;       // HGETALL, XRANGE: the field whose value is read next
    std::vector<std::string> fields_;           // XRANGE: the fields asked for
    std::vector<NumberColumn> field_columns_;   // and their columns
    int field_column_ = -1;                     // the column of field_, -1 for none
    std::string entry_id_;                      // XRANGE: the entry being read, to name a bad value
    long long entry_ = 0;                       // and its place in the reply
    std::optional<std::string> error_;
    bool server_error_ = false;
};

}  // namespace analytics::redis
