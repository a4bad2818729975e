// The one place that decides between the normal scheduler and a dirty CPU
// scheduler. A NIF estimates its own cost from its input size; work that would
// take longer than the budget is rescheduled with enif_schedule_nif.
#pragma once

#include <erl_nif.h>

#include <cstddef>

#include "boundary.hpp"

namespace analytics::nif {

// Work on a normal scheduler stays well under 1 ms: at most this long.
inline constexpr double kNormalSchedulerBudgetNs = 100'000.0;

// Nanoseconds per element, measured by bench/schedule_bench.exs on a 2-core
// AMD EPYC VM and rounded up (guides/performance.md, "SIMD and scheduling"). With the 100 us budget a
// column reduction stays on the normal scheduler up to ~200k elements, a
// median up to ~20k, a plain list up to ~6k.
namespace cost {
inline constexpr double streaming_reduce = 0.5;  // sum/min/max/mean/variance over a column
inline constexpr double selection = 5.0;         // quantile/median: copy + nth_element
inline constexpr double hashing = 12.0;          // n_distinct
inline constexpr double list_decode = 16.0;      // one list cell to a native number
inline constexpr double list_encode = 14.0;      // one native number to a list cell
inline constexpr double copy = 8.0;              // one 8-byte value into fresh memory
inline constexpr double expression_node = 2.0;   // one expression operator on one row
inline constexpr double grouping = 60.0;         // one row into a group, with table and sort overheads
inline constexpr double sketching = 30.0;        // one value into a HyperLogLog or DDSketch
inline constexpr double sorting = 60.0;          // one value through a comparison sort (n log n at ~1M)
inline constexpr double downsampling = 3.0;      // one point through M4 or LTTB
}  // namespace cost

// How many elements fit the budget at `ns_per_element`.
std::size_t elements_within_budget(double ns_per_element);

// Estimates the cost of a call in nanoseconds from its arguments. It may throw
// (it runs inside the boundary), and must itself be cheap: it looks at sizes,
// walking at most a bounded prefix of a list.
using Estimator = double (*)(ErlNifEnv*, const ERL_NIF_TERM argv[]);

template <NifBody Body, Estimator Estimate>
ERL_NIF_TERM scheduled(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return boundary(env, [&] {
        if (Estimate(env, argv) <= kNormalSchedulerBudgetNs) return Body(env, argv);
        return enif_schedule_nif(env, "analytics_dirty_cpu", ERL_NIF_DIRTY_JOB_CPU_BOUND, &guarded<Body>, argc, argv);
    });
}

}  // namespace analytics::nif

namespace analytics::nif {

// The cost of processing a list at `ns_per_element`; walks no further than the
// budget allows, so a long list costs "over budget" without being walked.
double list_cost(ErlNifEnv* env, ERL_NIF_TERM list, double ns_per_element);

}  // namespace analytics::nif
