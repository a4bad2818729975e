#include "command.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

namespace analytics::redis {

void append_command(std::string& wire, std::span<const std::string_view> args) {
    if (args.empty()) throw std::invalid_argument("a Redis command needs at least one argument");
    std::vector<const char*> pointers;
    std::vector<size_t> lengths;
    pointers.reserve(args.size());
    lengths.reserve(args.size());
    for (std::string_view arg : args) {
        pointers.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    // The sds variant prints lengths with hiredis's own integer formatting;
    // redisFormatCommandArgv goes through vsprintf for each argument.
    sds formatted = nullptr;
    const int length =
        redisFormatSdsCommandArgv(&formatted, static_cast<int>(args.size()), pointers.data(), lengths.data());
    if (length < 0 || !formatted) throw std::bad_alloc();
    const std::unique_ptr<char, void (*)(sds)> owner(formatted, redisFreeSdsCommand);
    wire.append(formatted, static_cast<std::size_t>(length));
}

std::string format_command(const std::vector<std::string>& args) {
    const std::vector<std::string_view> views(args.begin(), args.end());
    std::string wire;
    append_command(wire, views);
    return wire;
}

namespace {

bool same_word(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
           });
}

constexpr std::string_view kPubSub =
    " puts the connection in pub/sub mode, where replies no longer match commands; use a separate pub/sub client";

// Only the name is ever quoted back: arguments may hold a password.
constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kRefused{{
    {"SUBSCRIBE", kPubSub},
    {"PSUBSCRIBE", kPubSub},
    {"SSUBSCRIBE", kPubSub},
    {"UNSUBSCRIBE", kPubSub},
    {"PUNSUBSCRIBE", kPubSub},
    {"SUNSUBSCRIBE", kPubSub},
    {"MONITOR", " streams every command the server runs instead of one reply; use a separate client"},
    {"AUTH", " is run by the connection itself: pass :username and :password to start_link/1"},
    {"SELECT", " is run by the connection itself: pass :database to start_link/1 (one connection per database)"},
    {"HELLO", " would switch the shared connection's protocol or credentials; the engine speaks RESP2"},
    {"RESET", " would drop the connection's AUTH and SELECT for every caller"},
}};

}  // namespace

std::optional<std::string> refusal(std::span<const std::string_view> args) {
    if (args.empty()) return std::nullopt;
    for (const auto& [name, why] : kRefused) {
        if (same_word(args[0], name)) return std::string(name) + std::string(why);
    }
    if (args.size() >= 2 && same_word(args[0], "CLIENT") && same_word(args[1], "REPLY")) {
        return "CLIENT REPLY would suppress replies that the pipelined connection matches to its callers";
    }
    return std::nullopt;
}

}  // namespace analytics::redis
