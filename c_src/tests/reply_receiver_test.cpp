// The receiver as a socket loop drives it: bytes written where next_buffer()
// points, replies read as they complete. Packed values are framed by the
// receiver and received in place; everything else goes through hiredis.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../redis/reply_receiver.hpp"

using namespace analytics::redis;
using analytics::series::Dtype;
using Status = ReplyReceiver::Status;

namespace {

constexpr std::size_t kLimit = std::size_t{1} << 20;

// Replies read in turn into `slots` (null: a tree) from bytes delivered as
// recv would deliver them: never more than next_buffer() offers.
class Driver {
public:
    Driver(std::vector<ColumnDecoder*> slots, std::size_t budget = kLimit) : receiver(budget), slots_(std::move(slots)) {}

    void deliver(std::string_view bytes) {
        while (!bytes.empty() && !failure) {
            const std::span<char> into = receiver.next_buffer();
            REQUIRE_FALSE(into.empty());
            const std::size_t n = std::min(into.size(), bytes.size());
            std::memcpy(into.data(), bytes.data(), n);
            receiver.received(n);
            bytes.remove_prefix(n);
            read_replies();
        }
    }
    bool done() const { return !failure && next == slots_.size() && !receiver.holds_bytes(); }

    ReplyReceiver receiver;
    std::size_t next = 0;
    std::optional<Status> failure;
    std::vector<ReplyTree> trees;

private:
    void read_replies() {
        while (next < slots_.size()) {
            const Status status = receiver.next_reply(slots_[next], false);
            if (status == Status::incomplete) return;
            if (status != Status::complete) {
                failure = status;
                return;
            }
            if (!slots_[next]) trees.push_back(receiver.take_tree());
            receiver.end_reply();
            ++next;
        }
    }

    std::vector<ColumnDecoder*> slots_;
};

std::string packed_wire(const std::vector<double>& values) {
    std::string wire = "$";
    wire.append(std::to_string(values.size() * sizeof(double))).append("\r\n");
    wire.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
    return wire.append("\r\n");
}

template <typename T>
std::vector<T> values_of(Decoded result) {
    const auto& column = std::get<analytics::series::ColumnData>(result);
    const auto& v = std::get<analytics::series::AlignedVector<T>>(column);
    return std::vector<T>(v.begin(), v.end());
}

std::vector<double> ramp(std::size_t n) {
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<double>(i) * 0.5 - 3;
    return values;
}

}  // namespace

TEST_CASE("a bulk header is plain, incomplete, or left to hiredis", "[reply]") {
    const BulkHeader plain = read_bulk_header("$16\r\nabc");
    CHECK(plain.length == 16u);
    CHECK(plain.header_bytes == 5);
    CHECK(read_bulk_header("$123456789012345678\r\n").length == 123456789012345678u);
    for (const std::string_view partial : {"", "$", "$1", "$16", "$16\r"}) {
        CHECK(read_bulk_header(partial).incomplete);
        CHECK_FALSE(read_bulk_header(partial).length);
    }
    // Nil, zero, signs, leading zeros, no digits, bad endings, 19 digits,
    // other types: none is a packed value's header.
    for (const std::string_view other : {"$-1\r\n", "$0\r\n", "$+8\r\n", "$08\r\n", "$\r\n", "$8\rx", "$8x\r\n",
                                         "$1234567890123456789\r\n", "-ERR x\r\n", "*1\r\n", ":8\r\n"}) {
        const BulkHeader header = read_bulk_header(other);
        CHECK_FALSE(header.incomplete);
        CHECK_FALSE(header.length);
    }
}

TEST_CASE("a packed value is framed here and received at every split point", "[reply]") {
    const std::vector<double> values = ramp(300);
    const std::string wire = packed_wire(values) + "+OK\r\n";
    for (std::size_t split = 0; split <= wire.size(); ++split) {
        ColumnDecoder get(Dtype::f64, ColumnLayout::packed, "g");
        Driver driver({&get, nullptr});
        driver.deliver(std::string_view(wire).substr(0, split));
        driver.deliver(std::string_view(wire).substr(split));
        REQUIRE(driver.done());
        REQUIRE(values_of<double>(get.finish()) == values);
        REQUIRE(driver.trees.at(0).text(driver.trees[0].root()) == "OK");
    }
}

TEST_CASE("a large packed value is received straight into its column, not copied", "[reply]") {
    const std::vector<double> values = ramp(128 * 1024);  // 1 MiB
    const std::string wire = packed_wire(values);
    ColumnDecoder get(Dtype::f64, ColumnLayout::packed, "g");
    Driver driver({&get}, 2 * kLimit);
    const std::size_t first = 100;
    driver.deliver(std::string_view(wire).substr(0, first));
    const std::size_t header = std::string_view("$1048576\r\n").size();
    const std::span<char> into = driver.receiver.next_buffer();
    CHECK(into.size() == values.size() * sizeof(double) - (first - header));
    driver.deliver(std::string_view(wire).substr(first));
    REQUIRE(driver.done());
    auto column = std::get<analytics::series::ColumnData>(get.finish());
    const auto& floats = std::get<analytics::series::AlignedVector<double>>(column);
    CHECK(reinterpret_cast<const char*>(floats.data()) + (first - header) == into.data());
    CHECK(std::vector<double>(floats.begin(), floats.end()) == values);
}

TEST_CASE("packed values between replies hiredis reads, in one stream, at every split point", "[reply]") {
    const std::int64_t packed[3] = {7, -9, 1LL << 40};
    const std::string bytes(reinterpret_cast<const char*>(packed), sizeof(packed));
    const std::string wire = "*2\r\n$1\r\n1\r\n$3\r\n2.5\r\n$24\r\n" + bytes + "\r\n" + ":5\r\n" + "$24\r\n" + bytes +
                             "\r\n" + "$-1\r\n";
    for (std::size_t split = 0; split <= wire.size(); ++split) {
        ColumnDecoder list(Dtype::f64, ColumnLayout::elements, "l");
        ColumnDecoder first(Dtype::i64, ColumnLayout::packed, "a");
        ColumnDecoder second(Dtype::i64, ColumnLayout::packed, "b");
        ColumnDecoder missing(Dtype::f64, ColumnLayout::packed, "m");
        Driver driver({&list, &first, nullptr, &second, &missing});
        driver.deliver(std::string_view(wire).substr(0, split));
        driver.deliver(std::string_view(wire).substr(split));
        REQUIRE(driver.done());
        REQUIRE(values_of<double>(list.finish()) == std::vector<double>{1, 2.5});
        REQUIRE(values_of<std::int64_t>(first.finish()) == std::vector<std::int64_t>{7, -9, 1LL << 40});
        REQUIRE(driver.trees.at(0).root().value == 5);
        REQUIRE(values_of<std::int64_t>(second.finish()) == std::vector<std::int64_t>{7, -9, 1LL << 40});
        REQUIRE(values_of<double>(missing.finish()).empty());
    }
}

TEST_CASE("what is not a plain packed value decodes as it always did", "[reply]") {
    const auto error_for = [](const std::string& wire) {
        ColumnDecoder get(Dtype::f64, ColumnLayout::packed, "r");
        Driver driver({&get});
        driver.deliver(wire);
        REQUIRE(driver.done());
        auto result = get.finish();
        return std::make_pair(std::get<std::string>(result), get.server_error());
    };
    CHECK(error_for("$3\r\nabc\r\n").first == "key r holds 3 bytes, not a whole number of 8-byte values");
    CHECK(error_for("-WRONGTYPE Operation against a key\r\n") ==
          std::make_pair(std::string("WRONGTYPE Operation against a key (key r)"), true));
    CHECK(error_for("*1\r\n$1\r\n1\r\n").first == "key r holds an array, not a packed binary value");
    CHECK(error_for(":3\r\n").first == "key r gave an integer reply, not numbers");

    ColumnDecoder empty(Dtype::i64, ColumnLayout::packed, "e");
    Driver zero({&empty});
    zero.deliver("$0\r\n\r\n");
    REQUIRE(zero.done());
    CHECK(values_of<std::int64_t>(empty.finish()).empty());
}

TEST_CASE("bad bulk headers are protocol errors, as hiredis reports them", "[reply]") {
    for (const std::string wire : {"$abc\r\n", "$-5\r\n", "$+8\r\n12345678\r\n", "$08\r\n12345678\r\n",
                                   "$99999999999999999999\r\n", "$8\rx\r\n", "?\r\n"}) {
        ColumnDecoder get(Dtype::f64, ColumnLayout::packed, "g");
        Driver driver({&get});
        driver.deliver(wire);
        CHECK(driver.failure == Status::protocol_error);
    }
}

TEST_CASE("a packed value over max_reply_bytes is refused at its header", "[reply]") {
    ColumnDecoder fits(Dtype::f64, ColumnLayout::packed, "g");
    Driver at_limit({&fits}, 1024);
    at_limit.deliver(packed_wire(ramp(128)));
    CHECK(at_limit.done());

    // The header alone is enough: nothing of the payload is waited for.
    for (const std::string header : {"$1032\r\n", "$536870912\r\n", "$123456789012345672\r\n"}) {
        ColumnDecoder get(Dtype::f64, ColumnLayout::packed, "g");
        Driver driver({&get}, 1024);
        driver.deliver(header);
        CHECK(driver.failure == Status::too_large);
        CHECK(driver.receiver.target().budget.exceeded());
    }
}

TEST_CASE("a packed value nobody waits for any more is read to its end and dropped", "[reply]") {
    const std::vector<double> values = ramp(20'000);
    const std::string wire = packed_wire(values) + packed_wire({1.5});
    ColumnDecoder abandoned(Dtype::f64, ColumnLayout::packed, "a");
    ColumnDecoder next(Dtype::f64, ColumnLayout::packed, "b");
    ReplyReceiver receiver(kLimit);
    const auto deliver = [&](std::string_view bytes) {
        while (!bytes.empty()) {
            const std::span<char> into = receiver.next_buffer();
            const std::size_t n = std::min(into.size(), bytes.size());
            std::memcpy(into.data(), bytes.data(), n);
            receiver.received(n);
            bytes.remove_prefix(n);
        }
    };
    deliver(std::string_view(wire).substr(0, 1000));
    REQUIRE(receiver.next_reply(&abandoned, false) == Status::incomplete);
    // The caller timed out: its decoder is gone, the bytes still come.
    deliver(std::string_view(wire).substr(1000));
    REQUIRE(receiver.next_reply(nullptr, true) == Status::complete);
    receiver.end_reply();
    REQUIRE(receiver.next_reply(&next, false) == Status::complete);
    CHECK(values_of<double>(next.finish()) == std::vector<double>{1.5});
    CHECK(values_of<double>(abandoned.finish()).empty());
    CHECK_FALSE(receiver.holds_bytes());
}
