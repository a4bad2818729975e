#include "command.hpp"

#include <hiredis/hiredis.h>

#include <memory>
#include <new>
#include <stdexcept>

namespace analytics::redis {

std::string format_command(const std::vector<std::string_view>& args) {
    if (args.empty()) throw std::invalid_argument("a Redis command needs at least one argument");
    std::vector<const char*> pointers;
    std::vector<size_t> lengths;
    for (std::string_view arg : args) {
        pointers.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    char* formatted = nullptr;
    const int length = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), pointers.data(), lengths.data());
    if (length < 0 || !formatted) throw std::bad_alloc();
    const std::unique_ptr<char, void (*)(char*)> owner(formatted, redisFreeCommand);
    return std::string(formatted, static_cast<std::size_t>(length));
}

std::string format_command(const std::vector<std::string>& args) {
    return format_command(std::vector<std::string_view>(args.begin(), args.end()));
}

}  // namespace analytics::redis
