#include "column_decoder.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace analytics::redis {

void NumberColumn::reserve(std::size_t values) {
    if (dtype_ == series::Dtype::f64) {
        floats_.reserve(values);
    } else {
        integers_.reserve(values);
    }
}

bool NumberColumn::append_text(std::string_view text) {
    // Redis reads "+5" and "+inf" as numbers; from_chars takes no '+'.
    if (text.size() > 1 && text[0] == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
    const char* first = text.data();
    const char* last = first + text.size();
    if (dtype_ == series::Dtype::i64) {
        std::int64_t value;
        const auto [end, ec] = std::from_chars(first, last, value);
        if (ec != std::errc() || end != last) return false;
        integers_.push_back(value);
        return true;
    }
    // from_chars reads Redis's non-finite scores (inf, -inf, nan) too.
    double value;
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || end != last) return false;
    floats_.push_back(value);
    return true;
}

void NumberColumn::append_integer(long long value) {
    if (dtype_ == series::Dtype::f64) {
        floats_.push_back(static_cast<double>(value));
    } else {
        integers_.push_back(value);
    }
}

bool NumberColumn::append_nil() {
    if (dtype_ == series::Dtype::i64) return false;
    floats_.push_back(std::numeric_limits<double>::quiet_NaN());
    return true;
}

void NumberColumn::assign_packed(std::string_view bytes) {
    const std::size_t n = bytes.size() / 8;
    if (dtype_ == series::Dtype::f64) {
        floats_.resize(n);
        if (n) std::memcpy(floats_.data(), bytes.data(), n * 8);
    } else {
        integers_.resize(n);
        if (n) std::memcpy(integers_.data(), bytes.data(), n * 8);
    }
}

void NumberColumn::assign(series::ColumnData data) {
    if (dtype_ == series::Dtype::f64) {
        floats_ = std::move(std::get<series::AlignedVector<double>>(data));
    } else {
        integers_ = std::move(std::get<series::AlignedVector<std::int64_t>>(data));
    }
}

std::size_t NumberColumn::size() const { return dtype_ == series::Dtype::f64 ? floats_.size() : integers_.size(); }

series::ColumnData NumberColumn::take() {
    if (dtype_ == series::Dtype::f64) return series::ColumnData(std::move(floats_));
    return series::ColumnData(std::move(integers_));
}

ColumnDecoder::ColumnDecoder(series::Dtype dtype, ColumnLayout layout, std::string key, ElementNames names,
                             series::Dtype second, std::vector<std::string> fields)
    : layout_(layout),
      key_(std::move(key)),
      names_(std::move(names)),
      first_(dtype),
      second_(second),
      fields_(std::move(fields)),
      field_columns_(fields_.size(), NumberColumn(second)) {}

void ColumnDecoder::fail(std::string message) {
    if (!error_) error_ = std::move(message);
}

std::size_t ColumnDecoder::bytes_for(int depth, int elements) const {
    if (layout_ == ColumnLayout::stream_fields) {
        // Each entry gives one number per column, charged with the reply;
        // nothing of an entry's own arrays is kept.
        return depth == 0 ? static_cast<std::size_t>(elements) * (1 + fields_.size()) * sizeof(double) : 0;
    }
    const auto values = static_cast<std::size_t>(layout_ == ColumnLayout::odd_elements ? elements / 2 : elements);
    return values * sizeof(double);
}

void ColumnDecoder::on_array(int depth, int index, int elements) {
    if (layout_ == ColumnLayout::stream_fields) return on_stream_array(depth, index, elements);
    if (depth > 0) return append_text(index, "(nested array)");
    if (layout_ == ColumnLayout::packed) return fail(key_name() + " holds an array, not a packed binary value");
    // The budget has been charged for every declared element.
    if (pairs()) {
        elements_ = elements / 2;
        first_.reserve(static_cast<std::size_t>(elements - elements / 2));
        second_.reserve(static_cast<std::size_t>(elements / 2));
        return;
    }
    elements_ = layout_ == ColumnLayout::odd_elements ? elements / 2 : elements;
    first_.reserve(static_cast<std::size_t>(elements_));
}

std::string ColumnDecoder::key_name() const {
    if (names_.keys.empty()) return "key " + key_;
    std::string keys;
    for (const auto& key : names_.keys) keys += (keys.empty() ? "keys " : ", ") + key;
    return keys;
}

// `index` is the element's place in the reply; users know the list index
// (LRANGE), the rank (ZRANGE), the key (MGET) or the field (HGETALL).
std::string ColumnDecoder::element_name(int index) const {
    if (!names_.keys.empty() && static_cast<std::size_t>(index) < names_.keys.size()) {
        return "the value of key " + names_.keys[static_cast<std::size_t>(index)];
    }
    switch (layout_) {
        case ColumnLayout::field_value_pairs:
            // A bad field name is its own name (the text in the message).
            return index % 2 == 0 ? "a field name of key " + key_ : "the value of field " + field_ + " of key " + key_;
        case ColumnLayout::member_score_pairs:
            return ranked_name(index % 2 == 0 ? "the member" : "the score", index / 2);
        case ColumnLayout::odd_elements: return ranked_name("the score", index / 2);
        default: return ranked_name("", index);
    }
}

// A list index (`what` empty) or a rank, from the range the fetch asked for.
std::string ColumnDecoder::ranked_name(const std::string& what, long long position) const {
    const std::string prefix = what.empty() ? "list index " : what + " at rank ";
    if (names_.range) {
        const auto [start, stop] = *names_.range;
        // From a start >= 0 the reply begins at it; from a negative start and
        // stop it ends at stop (Redis clamps only a start before the head).
        if (start >= 0) return prefix + std::to_string(start + position) + " of key " + key_;
        if (stop < 0) return prefix + std::to_string(stop - (elements_ - 1 - position)) + " of key " + key_;
    }
    const std::string place = std::to_string(position) + " (from 0, in reply order) of key " + key_;
    // Pairs of two columns say which of the two; the scores alone do not.
    return layout_ == ColumnLayout::member_score_pairs ? what + " of pair " + place : "element " + place;
}

void ColumnDecoder::append_text(int index, std::string_view text) {
    NumberColumn& column = column_for(index);
    if (column.append_text(text)) return;
    const char* what = column.dtype() == series::Dtype::i64 ? " is not an i64: " : " is not a number: ";
    fail(element_name(index) + what + std::string(text));
}

void ColumnDecoder::on_string(int depth, int index, std::string_view text, int type) {
    if (type == REDIS_REPLY_ERROR) {
        server_error_ = depth == 0;
        return fail(std::string(text) + " (" + key_name() + ")");
    }
    if (layout_ == ColumnLayout::stream_fields && depth > 0) return on_stream_string(depth, index, text);
    if (depth > 0) {
        if (layout_ == ColumnLayout::odd_elements && index % 2 == 0) return;  // a member, not a score
        if (layout_ == ColumnLayout::field_value_pairs && index % 2 == 0) field_.assign(text);
        return append_text(index, text);
    }
    if (layout_ != ColumnLayout::packed) return fail(key_name() + " holds a single value, not an array");
    if (text.size() % 8 != 0) {
        return fail(key_name() + " holds " + std::to_string(text.size()) +
                    " bytes, not a whole number of 8-byte values");
    }
    first_.assign_packed(text);
}

void ColumnDecoder::on_integer(int depth, int index, long long value) {
    if (depth == 0) return fail(key_name() + " gave an integer reply, not numbers");
    // Redis sends stream ids, fields and values as text; an integer stands
    // for its text (rare, so the string costs nothing that matters).
    if (layout_ == ColumnLayout::stream_fields) return on_stream_string(depth, index, std::to_string(value));
    if (layout_ == ColumnLayout::odd_elements && index % 2 == 0) return;
    column_for(index).append_integer(value);
}

void ColumnDecoder::on_nil(int depth, int index) {
    // A missing key is an empty series, as Redis treats a missing list.
    if (depth == 0) return;
    if (layout_ == ColumnLayout::stream_fields) {
        // An entry with no field list (a deleted entry, as XREADGROUP gives).
        if (depth == 2 && index == 1) return;
        if (depth != 3 || index % 2 == 0) return fail_not_an_entry(depth, index);
        NumberColumn* column = stream_column(depth, index);
        if (column && !column->append_nil()) fail(stream_value_name() + " is missing (nil) and :i64 has no NaN");
        return;
    }
    if (layout_ == ColumnLayout::odd_elements && index % 2 == 0) return;
    if (!column_for(index).append_nil()) fail(element_name(index) + " is missing (nil) and :i64 has no NaN");
}

void ColumnDecoder::fail_not_an_entry(int depth, int index) {
    const long long entry = depth == 1 ? index : entry_;
    fail("entry " + std::to_string(entry) + " (from 0, in reply order) of key " + key_ +
         " is not [id, [field, value, ...]]");
}

void ColumnDecoder::on_stream_array(int depth, int index, int elements) {
    if (depth == 0) {
        // The budget has been charged for every declared entry, all columns.
        first_.reserve(static_cast<std::size_t>(elements));
        for (auto& column : field_columns_) column.reserve(static_cast<std::size_t>(elements));
        return;
    }
    if (depth == 1) {
        // A new entry: the one before it has had all its fields.
        fill_missing_fields();
        entry_ = index;
        if (elements != 2) fail_not_an_entry(depth, index);
        return;
    }
    if (depth != 2 || index != 1 || elements % 2 != 0) fail_not_an_entry(depth, index);
}

void ColumnDecoder::on_stream_string(int depth, int index, std::string_view text) {
    if (depth == 2 && index == 0) {
        // "<ms>-<seq>": the column keeps the milliseconds.
        entry_id_.assign(text);
        const std::string_view ms = text.substr(0, text.find('-'));
        std::int64_t value;
        const auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), value);
        if (ec != std::errc() || end != ms.data() + ms.size() || ms.size() == text.size()) {
            return fail("entry id " + std::string(text) + " of key " + key_ + " is not <ms>-<seq>");
        }
        return first_.append_integer(value);
    }
    if (depth != 3) return fail_not_an_entry(depth, index);
    if (index % 2 == 0) {
        field_.assign(text);
        const auto found = std::find(fields_.begin(), fields_.end(), text);
        field_column_ = found == fields_.end() ? -1 : static_cast<int>(found - fields_.begin());
        return;
    }
    NumberColumn* column = stream_column(depth, index);
    if (!column || column->append_text(text)) return;
    const char* what = column->dtype() == series::Dtype::i64 ? " is not an i64: " : " is not a number: ";
    fail(stream_value_name() + what + std::string(text));
}

NumberColumn* ColumnDecoder::stream_column(int depth, int index) {
    if (depth != 3 || index % 2 == 0 || field_column_ < 0) return nullptr;
    NumberColumn& column = field_columns_[static_cast<std::size_t>(field_column_)];
    // A field repeated in one entry keeps its first value (XADD allows both).
    return column.size() < first_.size() ? &column : nullptr;
}

std::string ColumnDecoder::stream_value_name() const {
    return "the value of field " + field_ + " in entry " + entry_id_ + " of key " + key_;
}

// An entry without a field asked for: NaN, or an error for :i64.
void ColumnDecoder::fill_missing_fields() {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
        NumberColumn& column = field_columns_[i];
        while (column.size() < first_.size()) {
            if (!column.append_nil()) {
                return fail("entry " + entry_id_ + " of key " + key_ + " has no field " + fields_[i] +
                            ", and :i64 has no NaN");
            }
        }
    }
}

Decoded ColumnDecoder::finish() {
    if (layout_ == ColumnLayout::stream_fields) fill_missing_fields();
    if (error_) return *error_;
    if (layout_ == ColumnLayout::stream_fields) {
        ColumnSet set;
        set.columns.reserve(1 + field_columns_.size());
        set.columns.push_back(first_.take());
        for (auto& column : field_columns_) set.columns.push_back(column.take());
        return set;
    }
    if (!pairs()) return first_.take();
    // A well-formed reply has even length; a lone last element has no pair.
    if (first_.size() != second_.size()) {
        return key_name() + " gave an odd number of elements (" + std::to_string(first_.size() + second_.size()) +
               "), not " + (layout_ == ColumnLayout::member_score_pairs ? "member-score" : "field-value") + " pairs";
    }
    ColumnSet set;
    set.columns.reserve(2);
    set.columns.push_back(first_.take());
    set.columns.push_back(second_.take());
    return set;
}

}  // namespace analytics::redis
