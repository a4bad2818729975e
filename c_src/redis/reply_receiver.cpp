#include "reply_receiver.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace analytics::redis {

namespace {

// One socket read's worth: replies are fed to hiredis from here.
constexpr std::size_t kReadChunk = 64 * 1024;
// The most one read may take into a column: a reactor thread serves other
// connections too, and a TLS read goes on while bytes are there.
constexpr std::size_t kLargestRead = std::size_t{1} << 20;
// Up to 18 digits is below LLONG_MAX, so hiredis would take the length as it
// is; a longer one is left to hiredis to refuse or accept.
constexpr std::size_t kMaxLengthDigits = 18;

// Storage for `values` numbers, not zero-filled (AlignedAllocator's
// construct): the receive writes every byte of it.
series::ColumnData uninitialized_column(series::Dtype dtype, std::size_t values) {
    if (dtype == series::Dtype::f64) {
        series::AlignedVector<double> floats;
        floats.resize(values);
        return floats;
    }
    series::AlignedVector<std::int64_t> integers;
    integers.resize(values);
    return integers;
}

std::span<char> bytes_of(series::ColumnData& column) {
    return std::visit(
        [](auto& values) { return std::span(reinterpret_cast<char*>(values.data()), values.size() * 8); }, column);
}

}  // namespace

BulkHeader read_bulk_header(std::string_view bytes) {
    BulkHeader header;
    if (bytes.empty()) {
        header.incomplete = true;
        return header;
    }
    if (bytes[0] != '$') return header;
    std::size_t length = 0;
    std::size_t at = 1;
    for (; at < bytes.size() && bytes[at] >= '0' && bytes[at] <= '9'; ++at) {
        // "$0", "$01": zero, or what hiredis refuses; neither is a packed value.
        if (at == 1 && bytes[at] == '0') return header;
        if (at > kMaxLengthDigits) return header;
        length = length * 10 + static_cast<std::size_t>(bytes[at] - '0');
    }
    if (at == bytes.size() || (bytes[at] == '\r' && at + 1 == bytes.size())) {
        header.incomplete = true;
        return header;
    }
    if (at == 1 || bytes[at] != '\r' || bytes[at + 1] != '\n') return header;
    header.length = length;
    header.header_bytes = at + 2;
    return header;
}

ReplyReceiver::ReplyReceiver(std::size_t max_reply_bytes)
    : max_reply_bytes_(max_reply_bytes), reader_(make_reader()), target_(max_reply_bytes), buffer_(kReadChunk) {
    if (!reader_) throw std::bad_alloc();
}

std::span<char> ReplyReceiver::next_buffer() {
    if (direct_ && direct_->filled < direct_->payload.size() && begin_ == end_) {
        into_payload_ = true;
        const std::span<char> rest = direct_->payload.subspan(direct_->filled);
        return rest.first(std::min(rest.size(), kLargestRead));
    }
    into_payload_ = false;
    if (begin_ == end_) {
        begin_ = end_ = 0;
    } else if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    return std::span(buffer_).subspan(end_);
}

void ReplyReceiver::received(std::size_t n) {
    if (into_payload_) {
        direct_->filled += n;
    } else {
        end_ += n;
    }
}

ReplyReceiver::Status ReplyReceiver::next_reply(ColumnDecoder* decoder, bool discard) {
    if (direct_) return continue_direct(decoder, discard);
    // A reply hiredis has begun is its to finish.
    if (reader_->ridx < 0 && decoder && decoder->packed() && !discard) {
        take_back_from_reader();
        const BulkHeader header = read_bulk_header(buffered());
        if (header.incomplete) return Status::incomplete;
        if (header.length && *header.length % 8 == 0) return start_direct(*decoder, header);
    }
    return read_with_hiredis(decoder, discard);
}

// hiredis was fed more than the reply it finished: what follows is the start
// of this packed value. It comes back to the read buffer, ahead of anything
// received since, and the reader starts afresh (it holds nothing else between
// replies).
void ReplyReceiver::take_back_from_reader() {
    const std::size_t left = reader_->len - reader_->pos;
    if (left == 0) return;
    std::vector<char> bytes(reader_->buf + reader_->pos, reader_->buf + reader_->len);
    bytes.insert(bytes.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(begin_),
                 buffer_.begin() + static_cast<std::ptrdiff_t>(end_));
    if (bytes.size() > buffer_.size()) buffer_.resize(bytes.size());
    std::copy(bytes.begin(), bytes.end(), buffer_.begin());
    begin_ = 0;
    end_ = bytes.size();
    reader_ = make_reader();
    if (!reader_) throw std::bad_alloc();
}

ReplyReceiver::Status ReplyReceiver::start_direct(ColumnDecoder& decoder, const BulkHeader& header) {
    target_.aim(&decoder, false);
    // Charged as the reader's string function charges a packed root.
    if (!target_.budget.charge(*header.length)) return Status::too_large;
    try {
        direct_.emplace(Direct{uninitialized_column(decoder.dtype(), *header.length / 8), {}, 0, 2});
    } catch (const std::bad_alloc&) {
        target_.budget.refuse();
        return Status::too_large;
    }
    direct_->payload = bytes_of(direct_->column);
    consume(header.header_bytes);
    return continue_direct(&decoder, false);
}

ReplyReceiver::Status ReplyReceiver::continue_direct(ColumnDecoder* decoder, bool discard) {
    Direct& direct = *direct_;
    // Whatever came with the header (or with the CRLF) is copied once; the
    // rest of the payload is received in place (next_buffer).
    const std::size_t copied = std::min(buffered().size(), direct.payload.size() - direct.filled);
    std::memcpy(direct.payload.data() + direct.filled, buffered().data(), copied);
    direct.filled += copied;
    consume(copied);
    if (direct.filled < direct.payload.size()) return Status::incomplete;
    const std::size_t skipped = std::min(buffered().size(), direct.trailer_left);
    direct.trailer_left -= skipped;
    consume(skipped);
    if (direct.trailer_left > 0) return Status::incomplete;
    // Nobody waits any more (a timeout, a caller gone): the column goes.
    if (decoder && !discard) decoder->take_packed(std::move(direct.column));
    direct_.reset();
    return Status::complete;
}

ReplyReceiver::Status ReplyReceiver::read_with_hiredis(ColumnDecoder* decoder, bool discard) {
    if (begin_ != end_) {
        if (redisReaderFeed(reader_.get(), buffered().data(), buffered().size()) != REDIS_OK) {
            return Status::protocol_error;
        }
        begin_ = end_ = 0;
    }
    // hiredis buffers a reply until it is complete: bound what it holds.
    if (reader_->len - reader_->pos > max_reply_bytes_) return Status::too_large;
    // Nothing of a new reply yet (hiredis would open one on no bytes).
    if (reader_->ridx < 0 && reader_->pos == reader_->len) return Status::incomplete;
    target_.aim(decoder, discard);
    set_reply_target(reader_.get(), &target_);
    void* root = nullptr;
    if (redisReaderGetReply(reader_.get(), &root) != REDIS_OK) {
        return target_.budget.exceeded() ? Status::too_large : Status::protocol_error;
    }
    return root ? Status::complete : Status::incomplete;
}

bool ReplyReceiver::holds_bytes() const { return begin_ != end_ || reader_->pos < reader_->len || direct_; }

void ReplyReceiver::reset() {
    reader_ = make_reader();
    if (!reader_) throw std::bad_alloc();
    target_.reset();
    direct_.reset();
    begin_ = end_ = 0;
    into_payload_ = false;
}

}  // namespace analytics::redis
