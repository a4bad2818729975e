#include "boundary.hpp"

#include "atoms.hpp"
#include "terms.hpp"

namespace analytics::nif {

ERL_NIF_TERM raise_elixir(ErlNifEnv* env, ERL_NIF_TERM exception_module, std::string_view message) {
    return enif_raise_exception(
        env, make_exception(env, exception_module, atoms::message, make_binary(env, message)));
}

ERL_NIF_TERM raise_argument_error(ErlNifEnv* env, std::string_view message) {
    return raise_elixir(env, atoms::argument_error, message);
}

ERL_NIF_TERM raise_runtime_error(ErlNifEnv* env, std::string_view message) {
    return raise_elixir(env, atoms::runtime_error, message);
}

}  // namespace analytics::nif
