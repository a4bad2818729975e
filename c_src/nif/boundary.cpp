#include "boundary.hpp"

#include <cstring>

#include "atoms.hpp"

namespace analytics::nif {

ERL_NIF_TERM raise_elixir(ErlNifEnv* env, ERL_NIF_TERM exception_module, std::string_view message) {
    ERL_NIF_TERM text;
    auto* bytes = enif_make_new_binary(env, message.size(), &text);
    if (!bytes) return enif_make_badarg(env);
    if (!message.empty()) std::memcpy(bytes, message.data(), message.size());
    ERL_NIF_TERM keys[] = {atoms::struct_, atoms::exception, atoms::message};
    ERL_NIF_TERM values[] = {exception_module, atoms::true_, text};
    ERL_NIF_TERM exception;
    enif_make_map_from_arrays(env, keys, values, 3, &exception);
    return enif_raise_exception(env, exception);
}

ERL_NIF_TERM raise_argument_error(ErlNifEnv* env, std::string_view message) {
    return raise_elixir(env, atoms::argument_error, message);
}

ERL_NIF_TERM raise_runtime_error(ErlNifEnv* env, std::string_view message) {
    return raise_elixir(env, atoms::runtime_error, message);
}

}  // namespace analytics::nif
