#include "info_nif.hpp"

#include <vector>

#include "../kernels/dispatch.hpp"
#include "../kernels/recycled_memory.hpp"
#include "../redis/engine.hpp"
#include "../series/aligned_allocator.hpp"
#include "schedule.hpp"

namespace analytics::nif {
namespace {

ERL_NIF_TERM info_body(ErlNifEnv* env, const ERL_NIF_TERM[]) {
    std::vector<ERL_NIF_TERM> supported;
    for (const kernels::SimdTable* table : kernels::supported_simd()) {
        supported.push_back(enif_make_atom(env, table->name));
    }
    ERL_NIF_TERM keys[] = {enif_make_atom(env, "simd"), enif_make_atom(env, "simd_supported"),
                                 enif_make_atom(env, "normal_scheduler_budget_ns")};
    ERL_NIF_TERM values[] = {
        enif_make_atom(env, kernels::active_simd().name),
        enif_make_list_from_array(env, supported.data(), static_cast<unsigned>(supported.size())),
        enif_make_int64(env, static_cast<ErlNifSInt64>(kNormalSchedulerBudgetNs))};
    ERL_NIF_TERM map;
    enif_make_map_from_arrays(env, keys, values, 3, &map);
    return map;
}

ERL_NIF_TERM counters_body(ErlNifEnv* env, const ERL_NIF_TERM[]) {
    ERL_NIF_TERM keys[] = {enif_make_atom(env, "column_buffers"), enif_make_atom(env, "column_bytes"),
                           enif_make_atom(env, "redis_engines"), enif_make_atom(env, "redis_requests"),
                           enif_make_atom(env, "retained_bytes")};
    ERL_NIF_TERM values[] = {enif_make_int64(env, series::live_column_buffers.load()),
                             enif_make_int64(env, series::live_column_bytes.load()),
                             enif_make_int64(env, redis::live_engines.load()),
                             enif_make_int64(env, redis::live_callers.load()),
                             enif_make_int64(env, kernels::retained_bytes())};
    ERL_NIF_TERM map;
    enif_make_map_from_arrays(env, keys, values, 5, &map);
    return map;
}

ERL_NIF_TERM release_memory_body(ErlNifEnv* env, const ERL_NIF_TERM[]) {
    return enif_make_uint64(env, kernels::release_retained());
}

}  // namespace

ERL_NIF_TERM native_counters(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<counters_body>(env, argc, argv);
}

ERL_NIF_TERM release_memory(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return guarded<release_memory_body>(env, argc, argv);
}

ERL_NIF_TERM info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) { return guarded<info_body>(env, argc, argv); }

}  // namespace analytics::nif
