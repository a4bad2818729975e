// libFuzzer target: arbitrary bytes as Redis replies, read two ways from the
// same chunks and compared.
//   - the hiredis path: the reader with our object functions, fed chunk by
//     chunk under a reply budget, as the engine read before ReplyReceiver;
//   - the engine's path: ReplyReceiver, written where next_buffer() points
//     (so packed values are framed by it and received in place).
// Both must decode the same replies into the same trees, columns and errors,
// and end in the same state (waiting, protocol error, exhausted budget): the
// one allowed difference is that the receiver refuses a packed value over the
// budget at its header, where hiredis waits for bytes that never come. Any
// input must end without a crash, a leak or undefined behaviour.
//
// Byte 0 picks the decoding of even replies (a tree, or a column layout, one-
// or several-column, and dtypes; bit 0x40: drop every reply after its first
// chunk); byte 1 seeds the chunk sizes (1 to 64 bytes) and, in its top two
// bits, how odd replies decode (as even ones, a tree, or a packed column), so
// packed values meet the replies hiredis reads in one stream. The rest is the
// wire.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "../redis/reply_receiver.hpp"

using namespace analytics::redis;
using analytics::series::ColumnData;
using analytics::series::Dtype;

namespace {

// Small enough for libFuzzer's inputs to reach it.
constexpr std::size_t kBudget = 64 * 1024;

std::optional<ColumnDecoder> decoder_for(std::uint8_t mode) {
    constexpr ColumnLayout layouts[] = {ColumnLayout::packed,          ColumnLayout::elements,
                                        ColumnLayout::odd_elements,    ColumnLayout::member_score_pairs,
                                        ColumnLayout::field_value_pairs, ColumnLayout::stream_fields};
    if (mode % 7 == 0) return std::nullopt;
    ElementNames names;
    if (mode & 0x20) names.range = {-3, -1};
    const Dtype dtype = mode & 0x80 ? Dtype::i64 : Dtype::f64;
    // The second column's dtype and the stream fields vary with the same bits.
    const Dtype second = mode & 0x10 ? Dtype::i64 : Dtype::f64;
    return ColumnDecoder(dtype, layouts[mode % 6], "fuzz", names, second, {"a", "b"});
}

// How reply `index` decodes.
std::optional<ColumnDecoder> decoder_for(std::uint8_t mode, std::uint8_t odd, std::size_t index) {
    if (index % 2 == 0) return decoder_for(mode);
    switch (odd >> 6) {
        case 1: return std::nullopt;
        case 2: return ColumnDecoder(mode & 0x80 ? Dtype::i64 : Dtype::f64, ColumnLayout::packed, "fuzz");
        default: return decoder_for(mode);
    }
}

// What one reply decoded to, comparable across the two paths.
struct Outcome {
    std::string what;  // a tree, a column's bytes, or an error, flattened
    bool operator==(const Outcome&) const = default;
};

void append_column(std::string& out, const ColumnData& column) {
    std::visit(
        [&out](const auto& values) {
            out += "column " + std::to_string(values.size()) + ":";
            out.append(reinterpret_cast<const char*>(values.data()), values.size() * 8);
        },
        column);
}

Outcome outcome_of(std::optional<ColumnDecoder>& decoder, const ReplyTree& tree) {
    Outcome outcome;
    if (!decoder) {
        for (std::size_t i = 0; i < tree.size(); ++i) {
            const ReplyTree::Node& node = tree[i];
            outcome.what += std::to_string(static_cast<int>(node.type)) + "/" + std::to_string(node.value) + "/" +
                            std::to_string(node.length) + ":" + std::string(tree.text(node)) + ";";
        }
        return outcome;
    }
    const Decoded decoded = decoder->finish();
    if (const auto* error = std::get_if<std::string>(&decoded)) {
        outcome.what = "error " + *error + (decoder->server_error() ? " (server)" : "");
    } else if (const auto* set = std::get_if<ColumnSet>(&decoded)) {
        for (const ColumnData& column : set->columns) append_column(outcome.what, column);
    } else {
        append_column(outcome.what, std::get<ColumnData>(decoded));
    }
    return outcome;
}

enum class End { waiting, protocol_error, too_large };

struct Run {
    std::vector<Outcome> replies;  // not kept for dropped replies: only counted
    std::size_t dropped = 0;
    End end = End::waiting;
};

// Chunk sizes from 1 to 64, from a seed: the same splits for both paths.
class Splits {
public:
    explicit Splits(std::uint8_t seed) : state_(seed * 2654435761u + 1) {}
    std::size_t next() {
        state_ = state_ * 1103515245u + 12345u;
        return (state_ >> 16) % 64 + 1;
    }

private:
    std::uint32_t state_;
};

class Input {
public:
    Input(const std::uint8_t* data, std::size_t size)
        : mode(data[0]), odd(data[1]), wire(reinterpret_cast<const char*>(data + 2), size - 2) {}
    const std::uint8_t mode;
    const std::uint8_t odd;
    const std::string_view wire;
    bool drop() const { return mode & 0x40; }
};

// The hiredis reader alone, as the engine used it.
Run run_hiredis(const Input& input) {
    Run run;
    const Reader reader = make_reader();
    std::size_t index = 0;
    std::optional<ColumnDecoder> decoder = decoder_for(input.mode, input.odd, index);
    ReplyTarget target(kBudget);
    bool dropping = false;
    target.aim(decoder ? &*decoder : nullptr, false);
    Splits splits(input.odd);
    for (std::size_t offset = 0; offset < input.wire.size();) {
        const std::size_t length = std::min(splits.next(), input.wire.size() - offset);
        if (redisReaderFeed(reader.get(), input.wire.data() + offset, length) != REDIS_OK) std::abort();
        offset += length;
        if (reader->len - reader->pos > kBudget) {
            run.end = End::too_large;
            return run;
        }
        for (;;) {
            set_reply_target(reader.get(), &target);
            void* root = nullptr;
            if (redisReaderGetReply(reader.get(), &root) != REDIS_OK) {
                run.end = target.budget.exceeded() ? End::too_large : End::protocol_error;
                return run;
            }
            if (!root) break;
            if (dropping) {
                ++run.dropped;
            } else {
                run.replies.push_back(outcome_of(decoder, target.tree));
            }
            decoder = decoder_for(input.mode, input.odd, ++index);
            dropping = false;
            target.reset();
            target.aim(decoder ? &*decoder : nullptr, false);
        }
        if (input.drop()) {
            dropping = true;
            target.aim(nullptr, true);
        }
    }
    return run;
}

// ReplyReceiver, driven as the engine drives it.
Run run_receiver(const Input& input) {
    Run run;
    ReplyReceiver receiver(kBudget);
    std::size_t index = 0;
    std::optional<ColumnDecoder> decoder = decoder_for(input.mode, input.odd, index);
    bool dropping = false;
    Splits splits(input.odd);
    for (std::size_t offset = 0; offset < input.wire.size();) {
        const std::size_t length = std::min(splits.next(), input.wire.size() - offset);
        std::string_view chunk = input.wire.substr(offset, length);
        offset += length;
        // A read fills at most what next_buffer() offers.
        while (!chunk.empty()) {
            const std::span<char> into = receiver.next_buffer();
            if (into.empty()) std::abort();
            const std::size_t n = std::min(into.size(), chunk.size());
            std::memcpy(into.data(), chunk.data(), n);
            receiver.received(n);
            chunk.remove_prefix(n);
            for (;;) {
                const auto status = receiver.next_reply(dropping || !decoder ? nullptr : &*decoder, dropping);
                if (status == ReplyReceiver::Status::incomplete) break;
                if (status != ReplyReceiver::Status::complete) {
                    run.end = status == ReplyReceiver::Status::too_large ? End::too_large : End::protocol_error;
                    return run;
                }
                if (dropping) {
                    ++run.dropped;
                } else {
                    run.replies.push_back(outcome_of(decoder, receiver.target().tree));
                }
                decoder = decoder_for(input.mode, input.odd, ++index);
                dropping = false;
                receiver.end_reply();
            }
        }
        if (input.drop()) dropping = true;
    }
    return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const Input input(data, size);
    const Run hiredis = run_hiredis(input);
    const Run receiver = run_receiver(input);
    if (hiredis.replies != receiver.replies || hiredis.dropped != receiver.dropped) std::abort();
    // Refused at its header, or still waited for by hiredis: the same reply.
    const bool refused_early = receiver.end == End::too_large && hiredis.end == End::waiting;
    if (hiredis.end != receiver.end && !refused_early) std::abort();
    return 0;
}
