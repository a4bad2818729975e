// Where a connection's incoming bytes go and how they become replies.
//
// A packed value ({:get, key, dtype}: a bulk string of 8-byte numbers) is
// framed here: once its `$<len>\r\n` header is read, the payload is received
// straight into the column's aligned storage (next_buffer() points into it),
// so a 64 MiB value is neither buffered by hiredis in 1 MiB growth steps nor
// copied a second time. Every other reply, and any packed reply whose header
// is not a plain positive multiple of 8 ($-1, $0, an error, an array, a bad
// header), goes through the hiredis reader exactly as before, so errors and
// edge cases keep their one implementation.
//
// The transport-facing side is two calls, so any loop that reads a socket
// (epoll, io_uring, TLS) drives it the same way:
//     std::span<char> into = receiver.next_buffer();
//     n = read(into);   receiver.received(n);
//     while (receiver.next_reply(decoder_of_next_slot, discard) == complete) ...
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "reply.hpp"

namespace analytics::redis {

// A `$<len>\r\n` header at the start of `bytes`, as far as a packed value
// needs it: `length` when it is a plain positive decimal (no sign, no leading
// zero, hiredis's own strictness), `header_bytes` then counting the CRLF.
// `incomplete` while it may still become one; neither for anything else.
struct BulkHeader {
    bool incomplete = false;
    std::optional<std::size_t> length;
    std::size_t header_bytes = 0;
};
BulkHeader read_bulk_header(std::string_view bytes);

class ReplyReceiver {
public:
    enum class Status { incomplete, complete, protocol_error, too_large };

    explicit ReplyReceiver(std::size_t max_reply_bytes);
    ReplyReceiver(const ReplyReceiver&) = delete;
    ReplyReceiver& operator=(const ReplyReceiver&) = delete;

    // Where the next bytes read from the socket go: the rest of a packed
    // value's column while one is received (at most 1 MiB of it per read),
    // else the free end of the read buffer (reused for the connection's
    // life). Never empty.
    std::span<char> next_buffer();
    // `n` bytes were written at the start of the last next_buffer().
    void received(std::size_t n);

    // Reads the next reply from what was received, into `decoder` (a tree
    // when null), or reads it and drops it when `discard` (nobody waits).
    // After `complete`, the reply is in target() until end_reply().
    Status next_reply(ColumnDecoder* decoder, bool discard);
    const ReplyTarget& target() const { return target_; }
    ReplyTree take_tree() { return std::move(target_.tree); }
    // Ready for the next reply (what the last one built is dropped).
    void end_reply() { target_.reset(); }

    // Bytes received that no reply has taken yet.
    bool holds_bytes() const;
    // Forgets everything: a new connection starts from nothing.
    void reset();

private:
    // A packed value being received into its column.
    struct Direct {
        series::ColumnData column;
        std::span<char> payload;
        std::size_t filled = 0;
        std::size_t trailer_left = 2;  // its CRLF, skipped unread as hiredis does
    };

    std::string_view buffered() const { return {buffer_.data() + begin_, end_ - begin_}; }
    void consume(std::size_t n) { begin_ += n; }
    Status start_direct(ColumnDecoder& decoder, const BulkHeader& header);
    Status continue_direct(ColumnDecoder* decoder, bool discard);
    Status read_with_hiredis(ColumnDecoder* decoder, bool discard);
    void take_back_from_reader();

    std::size_t max_reply_bytes_;
    Reader reader_;
    ReplyTarget target_;  // its address is in the reader's tasks: it never moves
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::optional<Direct> direct_;
    bool into_payload_ = false;  // where the last next_buffer() pointed
};

}  // namespace analytics::redis
