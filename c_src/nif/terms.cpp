#include "terms.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "atoms.hpp"

namespace analytics::nif {

namespace {

// Terms can be huge; an error message needs only their start.
constexpr std::size_t kDescribeLimit = 120;

}  // namespace

namespace {

bool is_plain_atom(std::string_view name) {
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@'; };
    if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
    if (name.back() == '?' || name.back() == '!') name.remove_suffix(1);
    return std::all_of(name.begin(), name.end(), word);
}

// Atoms as Elixir writes them: nil, :ok, :"two words".
std::string describe_atom(ErlNifEnv* env, ERL_NIF_TERM atom) {
    std::array<char, 256> name{};
    enif_get_atom(env, atom, name.data(), name.size(), ERL_NIF_LATIN1);
    const std::string_view text(name.data());
    if (text == "nil" || text == "true" || text == "false") return std::string(text);
    const bool plain = is_plain_atom(text);
    std::string described = plain ? ":" : ":\"";
    described.append(text);
    if (!plain) described += '"';
    return described;
}

// Floats as Elixir writes them (shortest round trip); %T prints 1.500000e+00.
std::string describe_float(double value) {
    std::array<char, 32> buffer{};
    const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
    std::string text(buffer.data(), end);
    const std::size_t exponent = text.find('e');
    if (text.find('.') == std::string::npos) text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
    if (const std::size_t plus = text.find("e+"); plus != std::string::npos) text.erase(plus + 1, 1);
    return text;
}

}  // namespace

std::string describe(ErlNifEnv* env, ERL_NIF_TERM term) {
    if (enif_is_atom(env, term)) return describe_atom(env, term);
    double floating;
    if (enif_get_double(env, term, &floating)) return describe_float(floating);
    std::array<char, kDescribeLimit + 1> buffer{};
    const int written = enif_snprintf(buffer.data(), buffer.size(), "%T", term);
    std::string text(buffer.data());
    if (written >= static_cast<int>(buffer.size())) text += "...";
    return text;
}

series::Dtype decode_dtype(ErlNifEnv* env, ERL_NIF_TERM term) {
    if (enif_is_identical(term, atoms::f64)) return series::Dtype::f64;
    if (enif_is_identical(term, atoms::i64)) return series::Dtype::i64;
    throw std::invalid_argument("dtype must be :f64 or :i64, got: " + describe(env, term));
}

ERL_NIF_TERM encode_dtype(series::Dtype dtype) { return dtype == series::Dtype::f64 ? atoms::f64 : atoms::i64; }

std::size_t decode_size(ErlNifEnv* env, ERL_NIF_TERM term, std::string_view what) {
    ErlNifUInt64 value;
    if (!enif_get_uint64(env, term, &value) || value > std::numeric_limits<std::size_t>::max()) {
        throw std::invalid_argument(std::string(what) + " must be a non-negative integer, got: " + describe(env, term));
    }
    return static_cast<std::size_t>(value);
}

double decode_double(ErlNifEnv* env, ERL_NIF_TERM term, std::string_view what) {
    double floating;
    ErlNifSInt64 integer;
    if (enif_get_double(env, term, &floating)) return floating;
    if (enif_get_int64(env, term, &integer)) return static_cast<double>(integer);
    if (enif_is_identical(term, atoms::nan)) return std::numeric_limits<double>::quiet_NaN();
    if (enif_is_identical(term, atoms::infinity)) return std::numeric_limits<double>::infinity();
    if (enif_is_identical(term, atoms::neg_infinity)) return -std::numeric_limits<double>::infinity();
    throw std::invalid_argument(std::string(what) + " must be a number, :nan, :infinity or :neg_infinity, got: " +
                                describe(env, term));
}

namespace {

enum class ElementKind { integer, floating };

struct Element {
    ElementKind kind;
    std::int64_t integer = 0;
    double floating = 0.0;
};

// `floats_likely` tries the float decoder first: in a float column a failed
// integer decode per element would cost more than the decode itself.
Element decode_element(ErlNifEnv* env, ERL_NIF_TERM term, std::size_t index, bool floats_likely) {
    ErlNifSInt64 integer;
    double floating;
    if (floats_likely && enif_get_double(env, term, &floating)) return {ElementKind::floating, 0, floating};
    if (enif_get_int64(env, term, &integer)) return {ElementKind::integer, integer, 0.0};
    if (enif_get_double(env, term, &floating)) return {ElementKind::floating, 0, floating};
    if (enif_is_identical(term, atoms::nan)) return {ElementKind::floating, 0, std::numeric_limits<double>::quiet_NaN()};
    if (enif_is_identical(term, atoms::infinity)) return {ElementKind::floating, 0, std::numeric_limits<double>::infinity()};
    if (enif_is_identical(term, atoms::neg_infinity)) {
        return {ElementKind::floating, 0, -std::numeric_limits<double>::infinity()};
    }
    const std::string where = " at index " + std::to_string(index);
    if (enif_term_type(env, term) == ERL_NIF_TERM_TYPE_INTEGER) {
        throw std::invalid_argument("integer " + describe(env, term) + where + " is outside the i64 range");
    }
    throw std::invalid_argument("expected a number, :nan, :infinity or :neg_infinity" + where +
                                ", got: " + describe(env, term));
}

std::size_t proper_list_length(ErlNifEnv* env, ERL_NIF_TERM list) {
    unsigned length;
    if (!enif_get_list_length(env, list, &length)) {
        if (enif_is_list(env, list)) {
            throw std::invalid_argument("expected a proper list of numbers, got an improper list");
        }
        throw std::invalid_argument("expected a list of numbers, got: " + describe(env, list));
    }
    return length;
}

}  // namespace

series::ColumnData decode_number_list(ErlNifEnv* env, ERL_NIF_TERM list, ListDtype dtype) {
    const std::size_t length = proper_list_length(env, list);
    series::AlignedVector<std::int64_t> integers;
    series::AlignedVector<double> floats;
    bool as_floats = dtype == ListDtype::f64;
    if (as_floats) {
        floats.reserve(length);
    } else {
        integers.reserve(length);
    }

    ERL_NIF_TERM head, tail = list;
    for (std::size_t index = 0; enif_get_list_cell(env, tail, &head, &tail); ++index) {
        const Element e = decode_element(env, head, index, as_floats);
        if (e.kind == ElementKind::floating && !as_floats) {
            if (dtype == ListDtype::i64) {
                throw std::invalid_argument("cannot store " + describe(env, head) + " at index " + std::to_string(index) +
                                            " in an :i64 series (no silent truncation)");
            }
            // A float in an inferred list: everything so far becomes f64.
            floats.reserve(length);
            for (std::int64_t x : integers) floats.push_back(static_cast<double>(x));
            integers = {};
            as_floats = true;
        }
        if (as_floats) {
            floats.push_back(e.kind == ElementKind::integer ? static_cast<double>(e.integer) : e.floating);
        } else {
            integers.push_back(e.integer);
        }
    }
    if (as_floats) return series::ColumnData(std::move(floats));
    return series::ColumnData(std::move(integers));
}

std::size_t list_length_upto(ErlNifEnv* env, ERL_NIF_TERM list, std::size_t limit) {
    ERL_NIF_TERM head, tail = list;
    std::size_t length = 0;
    while (length <= limit && enif_get_list_cell(env, tail, &head, &tail)) ++length;
    return length;
}

ERL_NIF_TERM make_binary(ErlNifEnv* env, std::string_view bytes) {
    ERL_NIF_TERM term;
    auto* data = enif_make_new_binary(env, bytes.size(), &term);
    if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
    return term;
}

ERL_NIF_TERM make_exception(ErlNifEnv* env, ERL_NIF_TERM module, ERL_NIF_TERM field, ERL_NIF_TERM value) {
    ERL_NIF_TERM keys[] = {atoms::struct_, atoms::exception, field};
    ERL_NIF_TERM values[] = {module, atoms::true_, value};
    ERL_NIF_TERM map;
    enif_make_map_from_arrays(env, keys, values, 3, &map);
    return map;
}

ERL_NIF_TERM encode_double(ErlNifEnv* env, double value) {
    if (std::isnan(value)) return atoms::nan;
    if (std::isinf(value)) return value > 0 ? atoms::infinity : atoms::neg_infinity;
    return enif_make_double(env, value);
}

ERL_NIF_TERM encode_int128(ErlNifEnv* env, __int128 value) {
    if (value >= std::numeric_limits<std::int64_t>::min() && value <= std::numeric_limits<std::int64_t>::max()) {
        return enif_make_int64(env, static_cast<ErlNifSInt64>(value));
    }
    // No erl_nif call makes a bignum, but the external term format does:
    // 131, SMALL_BIG_EXT (110), digit count, sign, little-endian digits.
    const bool negative = value < 0;
    auto magnitude = negative ? -static_cast<unsigned __int128>(value) : static_cast<unsigned __int128>(value);
    std::array<unsigned char, 4 + 16> encoded{131, 110, 0, static_cast<unsigned char>(negative ? 1 : 0)};
    std::size_t digits = 0;
    for (; magnitude != 0; magnitude >>= 8) encoded[4 + digits++] = static_cast<unsigned char>(magnitude & 0xff);
    encoded[2] = static_cast<unsigned char>(digits);
    ERL_NIF_TERM term;
    if (enif_binary_to_term(env, encoded.data(), 4 + digits, &term, 0) == 0) {
        throw std::runtime_error("analytics: could not encode a 128-bit integer");
    }
    return term;
}

}  // namespace analytics::nif
