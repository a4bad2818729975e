// The NIF library: its function table and load callbacks.
#include <erl_nif.h>

#include <mutex>

#include "../kernels/recycled_memory.hpp"
#include "atoms.hpp"
#include "downsample_nif.hpp"
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
    {"series_sort", 3, series_sort, 0},
    {"series_argsort", 3, series_argsort, 0},
    {"series_search_sorted", 3, series_search_sorted, 0},
    {"reduce", 2, reduce, 0},
    {"fused_reduce", 4, fused_reduce, 0},
    {"map", 2, map, 0},
    {"filter", 2, filter, 0},
    {"group_reduce", 3, group_reduce, 0},
    {"bucket_reduce", 4, bucket_reduce, 0},
    {"downsample", 6, downsample, 0},
    {"sketch_merge", 2, sketch_merge, 0},
    {"sketch_estimate", 2, sketch_estimate, 0},
    {"info", 0, info, 0},
    {"native_counters", 0, native_counters, 0},
    {"release_memory", 0, release_memory, 0},
    {"redis_connect", 11, redis_connect, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"redis_request", 6, redis_request, 0},
    {"redis_stop", 1, redis_stop, 0},
    {"redis_own", 1, redis_own, 0},
    {"redis_pending", 1, redis_pending, 0},
};

int load(ErlNifEnv* env, void** /*priv*/, ERL_NIF_TERM /*info*/) {
    // Once per copy of the library in memory: an upgrade that loads this same
    // file again must not rewrite atoms that engine threads are reading.
    static std::once_flag atoms_made;
    std::call_once(atoms_made, atoms::init, env);
    return open_series_resource(env) && open_engine_resource(env) ? 0 : 1;
}

// Loading Analytics.Native again (a release upgrade, `recompile` in iex)
// loads this library again: the new module instance takes over every
// resource type, so live series and Redis engines, and callers in flight,
// carry on. The library holds no state of its own besides the resource types,
// atoms and the pool of kept buffers, which need nothing carried over.
int upgrade(ErlNifEnv* env, void** priv, void** /*old_priv*/, ERL_NIF_TERM info) { return load(env, priv, info); }

// An instance purged: the reactor threads outlive every instance but the
// last (see close_engine_instance). The buffers kept for reuse are freed, so
// a library the VM unmaps leaves none behind; after an upgrade that loaded
// this same file the new instance shares the pool, which merely starts over.
// The per-thread list blocks are plain thread_local arrays that the C runtime
// frees with the thread or the library.
void unload(ErlNifEnv* /*env*/, void* /*priv*/) {
    close_engine_instance();
    kernels::release_retained();
}

}  // namespace
}  // namespace analytics::nif

ERL_NIF_INIT(Elixir.Analytics.Native, analytics::nif::functions, analytics::nif::load, nullptr, analytics::nif::upgrade,
             analytics::nif::unload)
