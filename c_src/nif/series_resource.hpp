// The NIF resource behind %Analytics.Series{}.
//
// A series is immutable once made, so dirty NIFs may read it concurrently
// without a lock; its destructor only drops a shared_ptr and never blocks.
#pragma once

#include <erl_nif.h>

#include <vector>

#include "../series/series.hpp"

namespace analytics::nif {

struct SeriesResource {
    series::Series series;
};

// Registers the resource type; call from the NIF load callback.
bool open_series_resource(ErlNifEnv* env);

bool is_series(ErlNifEnv* env, ERL_NIF_TERM term);

// The resource inside an %Analytics.Series{}; throws std::invalid_argument
// for anything else.
SeriesResource& get_series_resource(ErlNifEnv* env, ERL_NIF_TERM term);
inline const series::Series& get_series(ErlNifEnv* env, ERL_NIF_TERM term) {
    return get_series_resource(env, term).series;
}

// A new %Analytics.Series{resource: ..., dtype: ..., size: ...}.
ERL_NIF_TERM make_series(ErlNifEnv* env, series::Series series);

// A new series holding a copy of a kernel's result column.
template <typename T>
ERL_NIF_TERM make_series(ErlNifEnv* env, const std::vector<T>& values) {
    return make_series(env, series::Series(series::AlignedVector<T>(values.begin(), values.end())));
}

}  // namespace analytics::nif
