#include "schedule.hpp"

namespace analytics::nif {

std::size_t elements_within_budget(double ns_per_element) {
    return static_cast<std::size_t>(kNormalSchedulerBudgetNs / ns_per_element);
}

}  // namespace analytics::nif

#include "terms.hpp"

namespace analytics::nif {

double list_cost(ErlNifEnv* env, ERL_NIF_TERM list, double ns_per_element) {
    const std::size_t limit = elements_within_budget(ns_per_element);
    return static_cast<double>(list_length_upto(env, list, limit)) * ns_per_element;
}

}  // namespace analytics::nif
