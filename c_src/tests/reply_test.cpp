#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../redis/reply.hpp"

using namespace analytics::redis;
using analytics::series::Dtype;

namespace {

constexpr std::size_t kLimit = std::size_t{1} << 20;

// Feeds `wire` one byte at a time (every split point); true once a reply is
// complete (it is then in `target`).
bool read_one(redisReader* reader, const std::string& wire, ReplyTarget& target) {
    set_reply_target(reader, &target);
    for (char byte : wire) {
        REQUIRE(redisReaderFeed(reader, &byte, 1) == REDIS_OK);
        void* root = nullptr;
        REQUIRE(redisReaderGetReply(reader, &root) == REDIS_OK);
        if (root) return true;
    }
    return false;
}

// Feeds `wire` at once: REDIS_OK (complete or waiting for more) or REDIS_ERR.
int feed_all(redisReader* reader, const std::string& wire, ReplyTarget& target) {
    set_reply_target(reader, &target);
    REQUIRE(redisReaderFeed(reader, wire.data(), wire.size()) == REDIS_OK);
    void* root = nullptr;
    return redisReaderGetReply(reader, &root);
}

template <typename T>
std::vector<T> values_of(Decoded result) {
    const auto& column = std::get<analytics::series::ColumnData>(result);
    const auto& v = std::get<analytics::series::AlignedVector<T>>(column);
    return std::vector<T>(v.begin(), v.end());
}

std::string repeat(const std::string& piece, std::size_t times) {
    std::string out;
    out.reserve(piece.size() * times);
    for (std::size_t i = 0; i < times; ++i) out += piece;
    return out;
}

std::string error_of(ColumnDecoder& decoder) { return std::get<std::string>(decoder.finish()); }

}  // namespace

TEST_CASE("tree replies nest and carry every type, flat in reading order", "[reply]") {
    auto reader = make_reader();
    ReplyTarget target(kLimit);
    REQUIRE(read_one(reader.get(), "*5\r\n$3\r\nabc\r\n:42\r\n$-1\r\n+OK\r\n*1\r\n-ERR bad\r\n", target));
    const ReplyTree& tree = target.tree;
    using Type = ReplyTree::Type;
    REQUIRE(tree.size() == 7);
    CHECK(tree[0].type == Type::array);
    CHECK(tree[0].length == 5);
    CHECK(tree.text(tree[1]) == "abc");
    CHECK(tree[2].value == 42);
    CHECK(tree[3].type == Type::nil);
    CHECK(tree[4].type == Type::status);
    CHECK(tree[5].length == 1);
    CHECK(tree[6].type == Type::error);
    CHECK(tree.text(tree[6]) == "ERR bad");
    CHECK(target.budget.used() == 7 * ReplyTree::kNodeBytes + 3 + 2 + 7);  // nodes and text
}

TEST_CASE("array elements decode straight into a column, at every split point", "[reply]") {
    auto reader = make_reader();
    ColumnDecoder decoder(Dtype::f64, ColumnLayout::elements, "k");
    ReplyTarget target(kLimit);
    target.aim(&decoder, false);
    REQUIRE(read_one(reader.get(), "*4\r\n$3\r\n1.5\r\n$4\r\n-inf\r\n$2\r\n10\r\n$-1\r\n", target));
    CHECK(target.tree.empty());
    const auto values = values_of<double>(decoder.finish());
    REQUIRE(values.size() == 4);
    REQUIRE(values[0] == 1.5);
    REQUIRE(values[1] == -INFINITY);
    REQUIRE(values[2] == 10.0);
    REQUIRE(std::isnan(values[3]));
    CHECK(target.budget.used() == 4 * sizeof(double));
}

TEST_CASE("decimal text is read as Redis reads numbers: a leading + too", "[reply]") {
    auto reader = make_reader();
    ColumnDecoder floats(Dtype::f64, ColumnLayout::elements, "k");
    ReplyTarget target(kLimit);
    target.aim(&floats, false);
    REQUIRE(read_one(reader.get(), "*4\r\n$2\r\n+5\r\n$4\r\n+inf\r\n$4\r\n-inf\r\n$5\r\n+1e-3\r\n", target));
    CHECK(values_of<double>(floats.finish()) == std::vector<double>{5.0, INFINITY, -INFINITY, 1e-3});

    ColumnDecoder ints(Dtype::i64, ColumnLayout::elements, "k");
    target.reset();
    target.aim(&ints, false);
    REQUIRE(read_one(reader.get(), "*2\r\n$2\r\n+5\r\n$2\r\n-7\r\n", target));
    CHECK(values_of<std::int64_t>(ints.finish()) == std::vector<std::int64_t>{5, -7});

    for (const std::string bad : {"++5", "+-5", "+", " 5"}) {
        ColumnDecoder one(Dtype::f64, ColumnLayout::elements, "k");
        target.reset();
        target.aim(&one, false);
        REQUIRE(read_one(reader.get(), "*1\r\n$" + std::to_string(bad.size()) + "\r\n" + bad + "\r\n", target));
        CHECK(error_of(one) == "element 0 (from 0, in reply order) of key k is not a number: " + bad);
    }
}

TEST_CASE("scores of WITHSCORES replies and packed values", "[reply]") {
    auto reader = make_reader();
    ColumnDecoder scores(Dtype::f64, ColumnLayout::odd_elements, "z");
    ReplyTarget target(kLimit);
    target.aim(&scores, false);
    REQUIRE(read_one(reader.get(), "*4\r\n$1\r\na\r\n$3\r\n2.5\r\n$1\r\nb\r\n$1\r\n3\r\n", target));
    REQUIRE(values_of<double>(scores.finish()) == std::vector<double>{2.5, 3.0});

    const std::int64_t packed[2] = {7, -9};
    const std::string bytes(reinterpret_cast<const char*>(packed), sizeof(packed));
    ColumnDecoder get(Dtype::i64, ColumnLayout::packed, "g");
    target.reset();
    target.aim(&get, false);
    REQUIRE(read_one(reader.get(), "$16\r\n" + bytes + "\r\n", target));
    REQUIRE(values_of<std::int64_t>(get.finish()) == std::vector<std::int64_t>{7, -9});
}

TEST_CASE("bad elements are named as the user looks them up; server errors name the key", "[reply]") {
    auto reader = make_reader();
    ReplyTarget target(kLimit);
    const auto error_for = [&](ColumnDecoder decoder, const std::string& wire) {
        target.reset();
        target.aim(&decoder, false);
        REQUIRE(read_one(reader.get(), wire, target));
        return std::make_pair(error_of(decoder), decoder.server_error());
    };
    const std::string three = "*3\r\n$1\r\n1\r\n$3\r\n2.5\r\n$1\r\nx\r\n";

    CHECK(error_for(ColumnDecoder(Dtype::i64, ColumnLayout::elements, "prices"), three).first ==
          "element 1 (from 0, in reply order) of key prices is not an i64: 2.5");
    // LRANGE prices 10 20: the reply starts at list index 10.
    CHECK(error_for(ColumnDecoder(Dtype::i64, ColumnLayout::elements, "prices", ElementNames{std::make_pair(10LL, 20LL), {}}), three).first ==
          "list index 11 of key prices is not an i64: 2.5");
    // LRANGE prices -3 -1: the reply ends at -1.
    CHECK(error_for(ColumnDecoder(Dtype::f64, ColumnLayout::elements, "prices", ElementNames{std::make_pair(-3LL, -1LL), {}}), three).first ==
          "list index -1 of key prices is not a number: x");
    CHECK(error_for(ColumnDecoder(Dtype::f64, ColumnLayout::elements, "", ElementNames{std::nullopt, {"a", "b", "c"}}), three).first ==
          "the value of key c is not a number: x");
    CHECK(error_for(ColumnDecoder(Dtype::f64, ColumnLayout::odd_elements, "z", ElementNames{std::make_pair(5LL, 9LL), {}}),
                    "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\nbad\r\n")
              .first == "the score at rank 6 of key z is not a number: bad");

    const auto [wrong, server] = error_for(ColumnDecoder(Dtype::f64, ColumnLayout::elements, "h"),
                                           "-WRONGTYPE Operation against a key\r\n");
    CHECK(wrong == "WRONGTYPE Operation against a key (key h)");
    CHECK(server);

    CHECK(error_for(ColumnDecoder(Dtype::f64, ColumnLayout::packed, "r"), "$3\r\nabc\r\n").first ==
          "key r holds 3 bytes, not a whole number of 8-byte values");
}

TEST_CASE("a missing key is an empty column", "[reply]") {
    auto reader = make_reader();
    ColumnDecoder get(Dtype::f64, ColumnLayout::packed, "missing");
    ReplyTarget target(kLimit);
    target.aim(&get, false);
    REQUIRE(read_one(reader.get(), "$-1\r\n", target));
    REQUIRE(values_of<double>(get.finish()).empty());
}

TEST_CASE("malformed and too deeply nested replies are protocol errors", "[reply]") {
    for (const std::string wire : {"?what\r\n", "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"}) {
        auto reader = make_reader();
        ReplyTarget target(kLimit);
        REQUIRE(feed_all(reader.get(), wire, target) == REDIS_ERR);
        REQUIRE(reader->err == REDIS_ERR_PROTOCOL);
        CHECK_FALSE(target.budget.exceeded());
    }
}

// Found by the resp_reply fuzz target: a declared length used to be reserved
// up front, so "*2147483647" made the reader ask for gigabytes. Now the
// declared length is charged first, and refused when the budget cannot hold it.
TEST_CASE("a declared array length over the budget is refused before anything is stored", "[reply]") {
    for (const bool column : {false, true}) {
        auto reader = make_reader();
        ColumnDecoder decoder(Dtype::f64, ColumnLayout::elements, "k");
        ReplyTarget target(kLimit);
        target.aim(column ? &decoder : nullptr, false);
        REQUIRE(feed_all(reader.get(), "*2147483647\r\n:1\r\n:2\r\n", target) == REDIS_ERR);
        CHECK(target.budget.exceeded());
        CHECK(target.tree.empty());
    }
}

TEST_CASE("an 8 MB array against a 1 MB budget is refused, as trees and as columns", "[reply]") {
    const std::string wire = "*2000000\r\n" + repeat(":1\r\n", 2'000'000);
    for (const bool column : {false, true}) {
        auto reader = make_reader();
        ColumnDecoder decoder(Dtype::i64, ColumnLayout::elements, "k");
        ReplyTarget target(1'000'000);
        target.aim(column ? &decoder : nullptr, false);
        REQUIRE(feed_all(reader.get(), wire, target) == REDIS_ERR);
        CHECK(target.budget.exceeded());
    }
    // Within the budget, the same reply is whole: 2M nodes of 24 bytes.
    auto reader = make_reader();
    ReplyTarget target(std::size_t{64} << 20);
    void* root = nullptr;
    set_reply_target(reader.get(), &target);
    REQUIRE(redisReaderFeed(reader.get(), wire.data(), wire.size()) == REDIS_OK);
    REQUIRE(redisReaderGetReply(reader.get(), &root) == REDIS_OK);
    REQUIRE(root != nullptr);
    CHECK(target.tree.size() == 2'000'001);
    CHECK(target.budget.used() == 2'000'001 * ReplyTree::kNodeBytes);
}

TEST_CASE("text is charged as it arrives: an array of big strings stops at the budget", "[reply]") {
    // Declared small (10 elements), but 200 KB each against 1 MB.
    auto reader = make_reader();
    ReplyTarget target(kLimit);
    set_reply_target(reader.get(), &target);
    const std::string element = "$200000\r\n" + std::string(200'000, 'x') + "\r\n";
    REQUIRE(redisReaderFeed(reader.get(), "*10\r\n", 5) == REDIS_OK);
    int status = REDIS_OK;
    int fed = 0;
    for (; fed < 10 && status == REDIS_OK; ++fed) {
        REQUIRE(redisReaderFeed(reader.get(), element.data(), element.size()) == REDIS_OK);
        void* root = nullptr;
        status = redisReaderGetReply(reader.get(), &root);
    }
    CHECK(status == REDIS_ERR);
    CHECK(target.budget.exceeded());
    CHECK(fed == 6);  // the sixth string is one too many
}

TEST_CASE("a discarded reply keeps the reader in sync and stores nothing", "[reply]") {
    auto reader = make_reader();
    ReplyTarget target(kLimit);
    target.aim(nullptr, false);
    const std::string wire = "*3\r\n$3\r\nabc\r\n:1\r\n*1\r\n$-1\r\n";
    set_reply_target(reader.get(), &target);
    // Half read as a tree, then nobody wants it.
    REQUIRE(redisReaderFeed(reader.get(), wire.data(), 10) == REDIS_OK);
    void* root = nullptr;
    REQUIRE(redisReaderGetReply(reader.get(), &root) == REDIS_OK);
    REQUIRE(root == nullptr);
    CHECK_FALSE(target.tree.empty());
    target.aim(nullptr, true);
    CHECK(target.tree.empty());
    REQUIRE(redisReaderFeed(reader.get(), wire.data() + 10, wire.size() - 10) == REDIS_OK);
    REQUIRE(redisReaderGetReply(reader.get(), &root) == REDIS_OK);
    REQUIRE(root != nullptr);
    CHECK(target.tree.empty());
    // The next reply is read whole.
    target.reset();
    REQUIRE(read_one(reader.get(), "+PONG\r\n", target));
    CHECK(target.tree.text(target.tree.root()) == "PONG");
}

namespace {

template <typename First, typename Second>
std::pair<std::vector<First>, std::vector<Second>> pair_of(Decoded result) {
    const auto& set = std::get<ColumnSet>(result);
    REQUIRE(set.columns.size() == 2);
    const auto& first = std::get<analytics::series::AlignedVector<First>>(set.columns[0]);
    const auto& second = std::get<analytics::series::AlignedVector<Second>>(set.columns[1]);
    return {std::vector<First>(first.begin(), first.end()), std::vector<Second>(second.begin(), second.end())};
}

// A flat array reply of bulk strings.
std::string array_of(std::initializer_list<std::string> elements) {
    // Appended piece by piece: GCC 12's -Wrestrict misfires on "*" + to_string(...).
    std::string wire("*");
    wire.append(std::to_string(elements.size())).append("\r\n");
    for (const auto& e : elements) wire.append("$").append(std::to_string(e.size())).append("\r\n").append(e).append("\r\n");
    return wire;
}

}  // namespace

TEST_CASE("member-score pairs decode into two columns, at every split point", "[reply]") {
    auto reader = make_reader();
    ColumnDecoder decoder(Dtype::i64, ColumnLayout::member_score_pairs, "z", ElementNames{std::make_pair(0LL, -1LL), {}});
    ReplyTarget target(kLimit);
    target.aim(&decoder, false);
    const std::string wire =
        array_of({"1700000000000", "1.5", "-9223372036854775808", "+inf", "+42", "-2e3", "9223372036854775807", "nan"});
    REQUIRE(read_one(reader.get(), wire, target));
    CHECK(target.tree.empty());
    CHECK(target.budget.used() == 8 * sizeof(double));  // one number per element, nothing kept of the text
    const auto [members, scores] = pair_of<std::int64_t, double>(decoder.finish());
    CHECK(members == std::vector<std::int64_t>{1'700'000'000'000, INT64_MIN, 42, INT64_MAX});
    REQUIRE(scores.size() == 4);
    CHECK(scores[0] == 1.5);
    CHECK(scores[1] == INFINITY);
    CHECK(scores[2] == -2000.0);
    CHECK(std::isnan(scores[3]));
}

TEST_CASE("field-value pairs decode into two columns, at every split point", "[reply]") {
    auto reader = make_reader();
    ColumnDecoder decoder(Dtype::f64, ColumnLayout::field_value_pairs, "h", {}, Dtype::i64);
    ReplyTarget target(kLimit);
    target.aim(&decoder, false);
    REQUIRE(read_one(reader.get(), array_of({"0.25", "7", "-1", "+8", "1e3", "-9"}), target));
    const auto [fields, values] = pair_of<double, std::int64_t>(decoder.finish());
    CHECK(fields == std::vector<double>{0.25, -1.0, 1000.0});
    CHECK(values == std::vector<std::int64_t>{7, 8, -9});
}

TEST_CASE("a pair reply of odd length is an error, not columns of unequal length", "[reply]") {
    auto reader = make_reader();
    ReplyTarget target(kLimit);
    for (const auto& [layout, wire, message] :
         {std::tuple{ColumnLayout::member_score_pairs, array_of({"1", "2", "3"}),
                     "key k gave an odd number of elements (3), not member-score pairs"},
          std::tuple{ColumnLayout::field_value_pairs, array_of({"1"}),
                     "key k gave an odd number of elements (1), not field-value pairs"}}) {
        ColumnDecoder decoder(Dtype::i64, layout, "k");
        target.reset();
        target.aim(&decoder, false);
        REQUIRE(read_one(reader.get(), wire, target));
        CHECK(error_of(decoder) == message);
    }
    // The reader stays in step: the next reply is read whole.
    ColumnDecoder next(Dtype::i64, ColumnLayout::field_value_pairs, "k", {}, Dtype::i64);
    target.reset();
    target.aim(&next, false);
    REQUIRE(read_one(reader.get(), array_of({"1", "2"}), target));
    CHECK(pair_of<std::int64_t, std::int64_t>(next.finish()).second == std::vector<std::int64_t>{2});
}

TEST_CASE("a bad member, score, field or value is named by rank or field", "[reply]") {
    auto reader = make_reader();
    ReplyTarget target(kLimit);
    const auto error_for = [&](ColumnDecoder decoder, const std::string& wire) {
        target.reset();
        target.aim(&decoder, false);
        REQUIRE(read_one(reader.get(), wire, target));
        return error_of(decoder);
    };
    const auto ranked = [](long long start, long long stop) {
        return ColumnDecoder(Dtype::i64, ColumnLayout::member_score_pairs, "z", ElementNames{std::make_pair(start, stop), {}});
    };
    const std::string bad_member = array_of({"1", "1", "abc", "2", "3", "3"});
    // ZRANGE z 5 9: the reply starts at rank 5.
    CHECK(error_for(ranked(5, 9), bad_member) == "the member at rank 6 of key z is not an i64: abc");
    // ZRANGE z -3 -1: the reply ends at rank -1.
    CHECK(error_for(ranked(-3, -1), bad_member) == "the member at rank -2 of key z is not an i64: abc");
    // ZRANGE z -10 10: where the reply starts depends on the set's size.
    CHECK(error_for(ranked(-10, 10), bad_member) == "the member of pair 1 (from 0, in reply order) of key z is not an i64: abc");
    CHECK(error_for(ranked(0, -1), array_of({"1", "1", "2", "x"})) == "the score at rank 1 of key z is not a number: x");
    CHECK(error_for(ranked(0, -1), array_of({"1.5", "1"})) == "the member at rank 0 of key z is not an i64: 1.5");

    const ColumnDecoder hash(Dtype::i64, ColumnLayout::field_value_pairs, "h", {}, Dtype::f64);
    CHECK(error_for(hash, array_of({"1", "2", "f", "3"})) == "a field name of key h is not an i64: f");
    CHECK(error_for(hash, array_of({"1", "2", "17", "x", "18", "y"})) == "the value of field 17 of key h is not a number: x");

    CHECK(error_for(hash, "-WRONGTYPE Operation against a key\r\n") == "WRONGTYPE Operation against a key (key h)");
    CHECK(error_for(hash, "*2\r\n$1\r\n1\r\n*1\r\n:1\r\n") == "the value of field 1 of key h is not a number: (nested array)");
}

TEST_CASE("a missing key gives two empty columns; pairs are charged per element", "[reply]") {
    auto reader = make_reader();
    ReplyTarget target(kLimit);
    ColumnDecoder decoder(Dtype::i64, ColumnLayout::field_value_pairs, "missing");
    target.aim(&decoder, false);
    REQUIRE(read_one(reader.get(), "*0\r\n", target));
    const auto [fields, values] = pair_of<std::int64_t, double>(decoder.finish());
    CHECK(fields.empty());
    CHECK(values.empty());

    // 2^17 pairs need 2 MB of columns: refused by a 1 MB budget before any arrives.
    ColumnDecoder big(Dtype::i64, ColumnLayout::member_score_pairs, "z");
    target.reset();
    target.aim(&big, false);
    REQUIRE(feed_all(reader.get(), "*262144\r\n", target) == REDIS_ERR);
    CHECK(target.budget.exceeded());
}

namespace {

std::string bulk(const std::string& text) {
    std::string wire("$");
    wire.append(std::to_string(text.size())).append("\r\n").append(text).append("\r\n");
    return wire;
}

// One XRANGE entry: [id, [field, value, ...]].
std::string entry(const std::string& id, std::initializer_list<std::string> fields_and_values) {
    std::string wire("*2\r\n");
    wire.append(bulk(id)).append(array_of(fields_and_values));
    return wire;
}

std::string entries(std::initializer_list<std::string> each) {
    std::string wire("*");
    wire.append(std::to_string(each.size())).append("\r\n");
    for (const auto& e : each) wire.append(e);
    return wire;
}

ColumnDecoder stream_decoder(Dtype dtype, std::vector<std::string> fields) {
    return ColumnDecoder(Dtype::i64, ColumnLayout::stream_fields, "s", {}, dtype, std::move(fields));
}

template <typename T>
std::vector<T> column_of(const ColumnSet& set, std::size_t i) {
    const auto& v = std::get<analytics::series::AlignedVector<T>>(set.columns.at(i));
    return std::vector<T>(v.begin(), v.end());
}

}  // namespace

TEST_CASE("stream entries decode into ids and one column per field asked for, at every split point", "[reply]") {
    auto reader = make_reader();
    auto decoder = stream_decoder(Dtype::f64, {"temp", "hum"});
    ReplyTarget target(kLimit);
    target.aim(&decoder, false);
    const std::string wire = entries({
        entry("1700000000000-0", {"temp", "21.5", "hum", "+40"}),
        // No hum; a field not asked for; temp twice (XADD allows it): the first counts.
        entry("1700000000000-1", {"note", "x", "temp", "-3", "temp", "99"}),
        entry("1700000000500-0", {"hum", "41", "temp", "inf"}),
    });
    REQUIRE(read_one(reader.get(), wire, target));
    CHECK(target.budget.used() == 3 * 3 * sizeof(double));
    auto result = decoder.finish();
    const auto& set = std::get<ColumnSet>(result);
    REQUIRE(set.columns.size() == 3);
    CHECK(column_of<std::int64_t>(set, 0) == std::vector<std::int64_t>{1'700'000'000'000, 1'700'000'000'000, 1'700'000'000'500});
    CHECK(column_of<double>(set, 1) == std::vector<double>{21.5, -3.0, INFINITY});
    const auto hum = column_of<double>(set, 2);
    REQUIRE(hum.size() == 3);
    CHECK(hum[0] == 40.0);
    CHECK(std::isnan(hum[1]));
    CHECK(hum[2] == 41.0);
}

TEST_CASE("stream entries: a missing key, a deleted entry, and what cannot be decoded", "[reply]") {
    auto reader = make_reader();
    ReplyTarget target(kLimit);
    const auto decode = [&](ColumnDecoder& decoder, const std::string& wire) {
        target.reset();
        target.aim(&decoder, false);
        REQUIRE(read_one(reader.get(), wire, target));
        return decoder.finish();
    };

    auto missing = stream_decoder(Dtype::i64, {"a", "b"});
    auto empty = decode(missing, "*0\r\n");
    const auto& none = std::get<ColumnSet>(empty);
    REQUIRE(none.columns.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(column_of<std::int64_t>(none, i).empty());

    // A deleted entry (as XREADGROUP gives it) has a nil field list: NaN.
    auto deleted = stream_decoder(Dtype::f64, {"a"});
    auto one = decode(deleted, "*1\r\n*2\r\n" + bulk("5-0") + "$-1\r\n");
    CHECK(std::isnan(column_of<double>(std::get<ColumnSet>(one), 1).at(0)));

    const auto error_for = [&](Dtype dtype, const std::string& wire) {
        auto decoder = stream_decoder(dtype, {"temp"});
        return std::get<std::string>(decode(decoder, wire));
    };
    CHECK(error_for(Dtype::i64, entries({entry("1-0", {"temp", "1"}), entry("2-5", {"other", "1"})})) ==
          "entry 2-5 of key s has no field temp, and :i64 has no NaN");
    CHECK(error_for(Dtype::f64, entries({entry("1-0", {"temp", "hot"})})) ==
          "the value of field temp in entry 1-0 of key s is not a number: hot");
    CHECK(error_for(Dtype::i64, entries({entry("1-0", {"temp", "2.5"})})) ==
          "the value of field temp in entry 1-0 of key s is not an i64: 2.5");
    CHECK(error_for(Dtype::f64, entries({entry("abc", {"temp", "1"})})) == "entry id abc of key s is not <ms>-<seq>");
    CHECK(error_for(Dtype::f64, entries({entry("17", {"temp", "1"})})) == "entry id 17 of key s is not <ms>-<seq>");
    CHECK(error_for(Dtype::f64, "*2\r\n" + entry("1-0", {}) + bulk("x")) ==
          "entry 1 (from 0, in reply order) of key s is not [id, [field, value, ...]]");
    CHECK(error_for(Dtype::f64, entries({entry("1-0", {"temp"})})) ==
          "entry 0 (from 0, in reply order) of key s is not [id, [field, value, ...]]");
    CHECK(error_for(Dtype::f64, "*1\r\n*3\r\n" + bulk("1-0") + "*0\r\n:1\r\n") ==
          "entry 0 (from 0, in reply order) of key s is not [id, [field, value, ...]]");
    CHECK(error_for(Dtype::f64, "-WRONGTYPE Operation against a key\r\n") == "WRONGTYPE Operation against a key (key s)");

    // The reader stays in step after all of that.
    auto next = stream_decoder(Dtype::i64, {"temp"});
    auto last = decode(next, entries({entry("7-1", {"temp", "7"})}));
    CHECK(column_of<std::int64_t>(std::get<ColumnSet>(last), 1) == std::vector<std::int64_t>{7});

    // Entries are charged for every column when the reply starts: 32,769
    // entries of 4 columns need 32 bytes more than the 1 MiB budget.
    auto big = stream_decoder(Dtype::f64, {"a", "b", "c"});
    target.reset();
    target.aim(&big, false);
    REQUIRE(feed_all(reader.get(), "*32769\r\n", target) == REDIS_ERR);
    CHECK(target.budget.exceeded());
}
