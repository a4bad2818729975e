// The one place where C++ exceptions become Elixir exceptions. Every NIF runs
// its body through `boundary`: std::invalid_argument raises ArgumentError with
// its message, anything else RuntimeError. No exception ever unwinds into the VM.
#pragma once

#include <erl_nif.h>

#include <exception>
#include <new>
#include <stdexcept>
#include <string_view>

namespace analytics::nif {

ERL_NIF_TERM raise_elixir(ErlNifEnv* env, ERL_NIF_TERM exception_module, std::string_view message);

ERL_NIF_TERM raise_argument_error(ErlNifEnv* env, std::string_view message);
ERL_NIF_TERM raise_runtime_error(ErlNifEnv* env, std::string_view message);

template <typename Body>
ERL_NIF_TERM boundary(ErlNifEnv* env, Body&& body) noexcept {
    try {
        return body();
    } catch (const std::invalid_argument& e) {
        return raise_argument_error(env, e.what());
    } catch (const std::bad_alloc&) {
        return raise_runtime_error(env, "analytics: out of memory");
    } catch (const std::exception& e) {
        return raise_runtime_error(env, e.what());
    } catch (...) {
        return raise_runtime_error(env, "analytics: unknown native error");
    }
}

// A NIF body: the arguments, already counted by the function table.
using NifBody = ERL_NIF_TERM (*)(ErlNifEnv*, const ERL_NIF_TERM argv[]);

template <NifBody Body>
ERL_NIF_TERM guarded(ErlNifEnv* env, int /*argc*/, const ERL_NIF_TERM argv[]) {
    return boundary(env, [&] { return Body(env, argv); });
}

}  // namespace analytics::nif
