// libFuzzer target: arbitrary bytes as Redis replies, read the way the engine
// reads them (hiredis reader with our object functions, fed in chunks), into
// reply trees or numeric columns. Any input must end in replies, a decoding
// error or a protocol error: never a crash, a leak or undefined behaviour.
//
// The first byte picks the decoding (a tree, or a column layout and dtype),
// the second the chunk size; the rest is the wire.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "../redis/reply.hpp"

using namespace analytics::redis;
using analytics::series::Dtype;

namespace {

std::optional<ColumnDecoder> decoder_for(std::uint8_t mode) {
    constexpr ColumnLayout layouts[] = {ColumnLayout::packed, ColumnLayout::elements, ColumnLayout::odd_elements};
    if (mode % 7 == 0) return std::nullopt;
    return ColumnDecoder(mode & 0x80 ? Dtype::i64 : Dtype::f64, layouts[mode % 3], "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t mode = data[0];
    const std::size_t chunk = data[1] % 64 + 1;
    data += 2;
    size -= 2;

    const Reader reader = make_reader();
    std::optional<ColumnDecoder> decoder = decoder_for(mode);
    ReplyTarget target{decoder ? &*decoder : nullptr};
    for (std::size_t offset = 0; offset < size; offset += chunk) {
        const std::size_t length = size - offset < chunk ? size - offset : chunk;
        if (redisReaderFeed(reader.get(), reinterpret_cast<const char*>(data + offset), length) != REDIS_OK) return 0;
        for (;;) {
            set_reply_target(reader.get(), &target);
            void* root = nullptr;
            if (redisReaderGetReply(reader.get(), &root) != REDIS_OK) return 0;
            if (!root) break;
            const auto tree = reply_from_root(root);
            if (decoder) {
                [[maybe_unused]] const auto column = decoder->finish();
                decoder = decoder_for(mode);
                target.decoder = &*decoder;
            }
        }
    }
    return 0;
}
