// Commands on the wire: every argument its own bulk string (hiredis
// redisFormatCommandArgv), so keys with spaces, quotes or CRLF stay one argument.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace analytics::redis {

std::string format_command(const std::vector<std::string_view>& args);
std::string format_command(const std::vector<std::string>& args);

}  // namespace analytics::redis
