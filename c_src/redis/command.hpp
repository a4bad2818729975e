// Commands on the wire: every argument its own bulk string (hiredis argv
// formatting), so keys with spaces, quotes or CRLF stay one argument.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace analytics::redis {

// Appends one command to `wire`, which may already hold others.
void append_command(std::string& wire, std::span<const std::string_view> args);
std::string format_command(const std::vector<std::string>& args);

// Why a caller's command cannot run on the shared pipelined connection, if it
// cannot: it would break the one-reply-per-command order every caller's reply
// is matched by (pub/sub, MONITOR, CLIENT REPLY), or change connection state
// that a reconnect silently undoes (AUTH, SELECT, HELLO, RESET).
std::optional<std::string> refusal(std::span<const std::string_view> args);

}  // namespace analytics::redis
