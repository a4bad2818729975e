// libFuzzer target: arbitrary bytes as Redis replies, read the way the engine
// reads them (hiredis reader with our object functions, fed in chunks, under
// a reply budget), into reply trees or numeric columns, or dropped part way
// as the engine drops a reply nobody waits for. Any input must end in
// replies, a decoding error, a protocol error or an exhausted budget: never
// a crash, a leak or undefined behaviour.
//
// The first byte picks the decoding (a tree, or a column layout, one- or
// several-column, and dtypes; bit 0x40: drop every reply after its first
// chunk), the second the chunk size; the rest is the wire.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "../redis/reply.hpp"

using namespace analytics::redis;
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t mode = data[0];
    const std::size_t chunk = data[1] % 64 + 1;
    const bool drop = mode & 0x40;
    data += 2;
    size -= 2;

    const Reader reader = make_reader();
    std::optional<ColumnDecoder> decoder = decoder_for(mode);
    ReplyTarget target(kBudget);
    target.aim(decoder ? &*decoder : nullptr, false);
    for (std::size_t offset = 0; offset < size; offset += chunk) {
        const std::size_t length = size - offset < chunk ? size - offset : chunk;
        if (redisReaderFeed(reader.get(), reinterpret_cast<const char*>(data + offset), length) != REDIS_OK) return 0;
        for (;;) {
            set_reply_target(reader.get(), &target);
            void* root = nullptr;
            if (redisReaderGetReply(reader.get(), &root) != REDIS_OK) return 0;
            if (!root) break;
            if (decoder) {
                [[maybe_unused]] const auto column = decoder->finish();
                decoder = decoder_for(mode);
            }
            target.reset();
            target.aim(decoder ? &*decoder : nullptr, false);
        }
        if (drop) target.aim(nullptr, true);
    }
    return 0;
}
