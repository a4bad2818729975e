// How every resource type is opened: created on the first load, taken over
// when the module is loaded again (a hot code upgrade), so series, engines
// and callers made by the old module instance live on under the new one.
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

inline constexpr auto kCreateOrTakeOver = static_cast<ErlNifResourceFlags>(ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER);

}  // namespace analytics::nif
