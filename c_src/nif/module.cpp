// The NIF library: its function table and load callback.
#include <erl_nif.h>

#include "atoms.hpp"
#include "group_nif.hpp"
#include "info_nif.hpp"
#include "map_nif.hpp"
#include "reduce_nif.hpp"
#include "redis_nif.hpp"
#include "series_nif.hpp"
#include "sketch_nif.hpp"
#include "series_resource.hpp"

namespace analytics::nif {
namespace {

// Function names are those of Analytics.Native's stubs.
ErlNifFunc functions[] = {
    {"series_from_list", 2, series_from_list, 0},
    {"series_from_binary", 2, series_from_binary, 0},
    {"series_to_list", 1, series_to_list, 0},
    {"series_to_binary", 1, series_to_binary, 0},
    {"series_slice", 3, series_slice, 0},
    {"series_concat", 1, series_concat, 0},
    {"series_cast", 2, series_cast, 0},
    {"reduce", 2, reduce, 0},
    {"fused_reduce", 4, fused_reduce, 0},
    {"map", 2, map, 0},
    {"group_reduce", 3, group_reduce, 0},
    {"bucket_reduce", 4, bucket_reduce, 0},
    {"sketch_merge", 2, sketch_merge, 0},
    {"sketch_estimate", 2, sketch_estimate, 0},
    {"info", 0, info, 0},
    {"native_counters", 0, native_counters, 0},
    {"redis_connect", 8, redis_connect, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"redis_request", 6, redis_request, 0},
    {"redis_stop", 1, redis_stop, 0},
    {"redis_own", 1, redis_own, 0},
    {"redis_pending", 1, redis_pending, 0},
};

int load(ErlNifEnv* env, void** /*priv*/, ERL_NIF_TERM /*info*/) {
    atoms::init(env);
    return open_series_resource(env) && open_engine_resource(env) ? 0 : 1;
}

}  // namespace
}  // namespace analytics::nif

ERL_NIF_INIT(Elixir.Analytics.Native, analytics::nif::functions, analytics::nif::load, nullptr, nullptr, nullptr)
