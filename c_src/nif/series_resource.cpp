#include "series_resource.hpp"

#include <memory>
#include <new>
#include <stdexcept>

#include "atoms.hpp"
#include "resource_types.hpp"
#include "terms.hpp"

namespace analytics::nif {
namespace {

ErlNifResourceType* series_type = nullptr;

void destroy_series(ErlNifEnv*, void* object) { static_cast<SeriesResource*>(object)->~SeriesResource(); }

// enif_release_resource as a unique_ptr deleter: the term made from the
// resource keeps it alive, our own reference goes when we return.
struct ReleaseResource {
    void operator()(void* object) const { enif_release_resource(object); }
};

bool find_resource(ErlNifEnv* env, ERL_NIF_TERM term, SeriesResource** out) {
    ERL_NIF_TERM module, resource;
    return enif_is_map(env, term) && enif_get_map_value(env, term, atoms::struct_, &module) &&
           enif_is_identical(module, atoms::series_module) &&
           enif_get_map_value(env, term, atoms::resource, &resource) &&
           enif_get_resource(env, resource, series_type, reinterpret_cast<void**>(out));
}

}  // namespace

bool open_series_resource(ErlNifEnv* env) {
    series_type = enif_open_resource_type(env, nullptr, "analytics_series", destroy_series, kCreateOrTakeOver, nullptr);
    return series_type != nullptr;
}

bool is_series(ErlNifEnv* env, ERL_NIF_TERM term) {
    SeriesResource* resource;
    return find_resource(env, term, &resource);
}

SeriesResource& get_series_resource(ErlNifEnv* env, ERL_NIF_TERM term) {
    SeriesResource* resource;
    if (!find_resource(env, term, &resource)) {
        throw std::invalid_argument("expected an %Analytics.Series{}, got: " + describe(env, term));
    }
    // Elixir code reads :size and :dtype from the struct, so a struct whose
    // fields disagree with its data (built by hand or edited) is refused
    // here rather than trusted there.
    ERL_NIF_TERM size, dtype;
    ErlNifUInt64 claimed;
    if (!enif_get_map_value(env, term, atoms::size, &size) || !enif_get_uint64(env, size, &claimed) ||
        claimed != resource->series.size() || !enif_get_map_value(env, term, atoms::dtype, &dtype) ||
        !enif_is_identical(dtype, encode_dtype(resource->series.dtype()))) {
        throw std::invalid_argument(
            "not a valid %Analytics.Series{}: its :size and :dtype fields do not match its data, got: " +
            describe(env, term));
    }
    return *resource;
}

ERL_NIF_TERM make_series(ErlNifEnv* env, series::Series series) {
    void* memory = enif_alloc_resource(series_type, sizeof(SeriesResource));
    if (!memory) throw std::bad_alloc();
    const std::unique_ptr<void, ReleaseResource> owner(memory);
    const series::Dtype dtype = series.dtype();
    const std::size_t size = series.size();
    new (memory) SeriesResource{std::move(series)};

    ERL_NIF_TERM keys[] = {atoms::struct_, atoms::resource, atoms::dtype, atoms::size};
    ERL_NIF_TERM values[] = {atoms::series_module, enif_make_resource(env, memory), encode_dtype(dtype),
                                   enif_make_uint64(env, size)};
    ERL_NIF_TERM map;
    enif_make_map_from_arrays(env, keys, values, 4, &map);
    return map;
}

}  // namespace analytics::nif
