// Commands as they go on the wire, and the ones the shared connection refuses.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../redis/command.hpp"

using namespace analytics::redis;

TEST_CASE("every argument travels as one bulk string", "[command]") {
    const std::string key = "a key \"with\"\r\nCRLF";
    CHECK(format_command(std::vector<std::string>{"GET", key}) ==
          "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n");
}

TEST_CASE("commands that break reply order or connection state are refused by name", "[command]") {
    using Args = std::vector<std::string_view>;
    const std::vector<std::pair<Args, std::string>> refused{
        {{"SUBSCRIBE", "ch"}, "SUBSCRIBE "},
        {{"psubscribe", "c*"}, "PSUBSCRIBE "},
        {{"SSubscribe", "s"}, "SSUBSCRIBE "},
        {{"unsubscribe"}, "UNSUBSCRIBE "},
        {{"MONITOR"}, "MONITOR "},
        {{"select", "2"}, "SELECT "},
        {{"HELLO", "3"}, "HELLO "},
        {{"RESET"}, "RESET "},
        {{"client", "reply", "off"}, "CLIENT REPLY "},
        {{"CLIENT", "REPLY", "SKIP"}, "CLIENT REPLY "},
    };
    for (const auto& [args, prefix] : refused) {
        const auto why = refusal(args);
        REQUIRE(why.has_value());
        CHECK(why->rfind(prefix, 0) == 0);
    }
    // Only the name is quoted back, never the arguments.
    const auto auth = refusal(Args{"AUTH", "user", "s3cret-password"});
    REQUIRE(auth.has_value());
    CHECK(auth->rfind("AUTH ", 0) == 0);
    CHECK(auth->find("s3cret") == std::string::npos);
}

TEST_CASE("ordinary commands, and names that only look alike, pass", "[command]") {
    using Args = std::vector<std::string_view>;
    for (const Args& args : {Args{"GET", "SUBSCRIBE"}, Args{"CLIENT", "SETNAME", "x"}, Args{"CLIENT"}, Args{"SELECTX"},
                             Args{"PUBLISH", "ch", "m"}, Args{"SUBSCRIB"}, Args{}}) {
        CHECK_FALSE(refusal(args).has_value());
    }
}
