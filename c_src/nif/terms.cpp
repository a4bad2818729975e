#include "terms.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <stdexcept>

#include "atoms.hpp"

namespace analytics::nif {

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

namespace {

// An integer beyond the 64-bit range, rounded to the nearest double as
// Elixir's `/` and `:erlang.float/1` round it; false for anything else. No
// erl_nif call reads a bignum, but its external term format holds its
// little-endian magnitude: 131, SMALL_BIG_EXT (110) with a 1-byte digit count
// or LARGE_BIG_EXT (111) with a 4-byte one, then the sign byte.
bool bignum_to_double(ErlNifEnv* env, ERL_NIF_TERM term, double* out) {
    if (enif_term_type(env, term) != ERL_NIF_TERM_TYPE_INTEGER) return false;
    ErlNifBinary encoded;
    if (!enif_term_to_binary(env, term, &encoded)) return false;
    const std::unique_ptr<ErlNifBinary, void (*)(ErlNifBinary*)> owner(&encoded, enif_release_binary);
    const unsigned char* bytes = encoded.data;
    std::size_t header = 0;
    if (encoded.size > 3 && bytes[1] == 110) header = 3;
    if (encoded.size > 6 && bytes[1] == 111) header = 6;
    if (header == 0) return false;
    const bool negative = bytes[header] != 0;
    const unsigned char* digits = bytes + header + 1;
    std::size_t count = encoded.size - header - 1;
    while (count > 0 && digits[count - 1] == 0) --count;
    if (count == 0) return false;
    // The top 64 bits of the magnitude, and whether any bit below them is
    // set: folded into the lowest bit, which lies below a double's 53-bit
    // mantissa, it makes the one rounding of uint64 -> double exact.
    const std::size_t bits = count * 8 - static_cast<std::size_t>(__builtin_clz(digits[count - 1]) - 24);
    const std::size_t shift = bits > 64 ? bits - 64 : 0;
    std::uint64_t top = 0;
    bool sticky = false;
    for (std::size_t bit = 0; bit < bits; ++bit) {
        const bool set = (digits[bit / 8] >> (bit % 8)) & 1;
        if (bit < shift) {
            sticky = sticky || set;
        } else if (set) {
            top |= std::uint64_t{1} << (bit - shift);
        }
    }
    if (sticky) top |= 1;
    const double magnitude = std::ldexp(static_cast<double>(top), static_cast<int>(shift));
    *out = negative ? -magnitude : magnitude;
    return true;
}

// A bignum as a finite double, or std::invalid_argument saying it has none.
double finite_bignum(ErlNifEnv* env, ERL_NIF_TERM term, double value, std::string_view where) {
    if (std::isinf(value)) {
        throw std::invalid_argument("integer " + describe(env, term) + std::string(where) +
                                    " is too large for an :f64 (beyond 1.8e308)");
    }
    return value;
}

}  // namespace

double decode_double(ErlNifEnv* env, ERL_NIF_TERM term, std::string_view what) {
    double floating;
    ErlNifSInt64 integer;
    if (enif_get_double(env, term, &floating)) return floating;
    if (enif_get_int64(env, term, &integer)) return static_cast<double>(integer);
    if (bignum_to_double(env, term, &floating)) {
        return finite_bignum(env, term, floating, " given as " + std::string(what));
    }
    if (enif_is_identical(term, atoms::nan)) return std::numeric_limits<double>::quiet_NaN();
    if (enif_is_identical(term, atoms::infinity)) return std::numeric_limits<double>::infinity();
    if (enif_is_identical(term, atoms::neg_infinity)) return -std::numeric_limits<double>::infinity();
    throw std::invalid_argument(std::string(what) + " must be a number, :nan, :infinity or :neg_infinity, got: " +
                                describe(env, term));
}

namespace {

// big: an integer beyond the i64 range, with its nearest double.
enum class ElementKind { integer, floating, big };

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
    if (bignum_to_double(env, term, &floating)) return {ElementKind::big, 0, floating};
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

namespace {

std::invalid_argument outside_i64(ErlNifEnv* env, ERL_NIF_TERM term, std::size_t index) {
    return std::invalid_argument("integer " + describe(env, term) + " at index " + std::to_string(index) +
                                 " is outside the i64 range (an :f64 series or list with a float accepts it)");
}

// The block buffers, one pair per scheduler thread, reused by every call:
// trivially destructible, so nothing runs at thread exit or unload.
struct BlockBuffers {
    std::int64_t integers[kListBlock];
    double floats[kListBlock];
};

// Called once per list walk. Not inlined on purpose: GCC otherwise
// recomputes the thread_local's address (__tls_get_addr, as a module's TLS is
// dynamic) after every NIF API call, which was a third of the walk.
[[gnu::noinline]] BlockBuffers& block_buffers() {
    thread_local BlockBuffers buffers;
    return buffers;
}

// The integers-only attempt: false when an inferred list holds a non-integer
// (a float, a non-finite atom, an integer beyond i64), so it must be read as
// :f64. Throws for a bad element, or for any non-integer in an :i64 list.
bool read_as_i64(ErlNifEnv* env, ERL_NIF_TERM list, std::size_t length, ListDtype dtype, NumberBlocks& out) {
    out.start(series::Dtype::i64, length);
    std::int64_t* const buffer = block_buffers().integers;
    std::size_t fill = 0;
    ERL_NIF_TERM head, tail = list;
    for (std::size_t index = 0; enif_get_list_cell(env, tail, &head, &tail); ++index) {
        ErlNifSInt64 integer;
        if (!enif_get_int64(env, head, &integer)) {
            const Element e = decode_element(env, head, index, false);  // throws for a bad element
            if (dtype == ListDtype::infer) return false;
            if (e.kind == ElementKind::big) throw outside_i64(env, head, index);
            throw std::invalid_argument("cannot store " + describe(env, head) + " at index " + std::to_string(index) +
                                        " in an :i64 series (no silent truncation)");
        }
        buffer[fill++] = integer;
        if (fill == kListBlock) {
            out.block(std::span<const std::int64_t>(buffer, fill));
            fill = 0;
        }
    }
    if (!enif_is_empty_list(env, tail)) proper_list_length(env, list);  // throws: improper
    if (fill > 0) out.block(std::span<const std::int64_t>(buffer, fill));
    return true;
}

void read_as_f64(ErlNifEnv* env, ERL_NIF_TERM list, std::size_t length, ListDtype dtype, NumberBlocks& out) {
    out.start(series::Dtype::f64, length);
    double* const buffer = block_buffers().floats;
    std::size_t fill = 0;
    // An integer beyond the i64 range is an f64 element, so an inferred list
    // holding one is :f64 only if it also holds a float.
    bool saw_float = dtype == ListDtype::f64;
    std::optional<std::pair<ERL_NIF_TERM, std::size_t>> first_big;
    ERL_NIF_TERM head, tail = list;
    for (std::size_t index = 0; enif_get_list_cell(env, tail, &head, &tail); ++index) {
        double value;
        ErlNifSInt64 integer;
        if (enif_get_double(env, head, &value)) {
            saw_float = true;
        } else if (enif_get_int64(env, head, &integer)) {
            // An integer in an :f64 list (from_list's default dtype).
            value = static_cast<double>(integer);
        } else {
            const Element e = decode_element(env, head, index, false);
            value = e.floating;
            if (e.kind == ElementKind::integer) value = static_cast<double>(e.integer);
            if (e.kind == ElementKind::floating) saw_float = true;
            if (e.kind == ElementKind::big) {
                value = finite_bignum(env, head, e.floating, " at index " + std::to_string(index));
                if (!first_big) first_big.emplace(head, index);
            }
        }
        buffer[fill++] = value;
        if (fill == kListBlock) {
            out.block(std::span<const double>(buffer, fill));
            fill = 0;
        }
    }
    if (!enif_is_empty_list(env, tail)) proper_list_length(env, list);  // throws: improper
    if (first_big && !saw_float) throw outside_i64(env, first_big->first, first_big->second);
    if (fill > 0) out.block(std::span<const double>(buffer, fill));
}

// Collects the blocks into a column sized once.
class ColumnBlocks final : public NumberBlocks {
public:
    void start(series::Dtype dtype, std::size_t length) override {
        integers_ = {};
        floats_ = {};
        if (dtype == series::Dtype::f64) {
            floats_.reserve(length);
        } else {
            integers_.reserve(length);
        }
        as_floats_ = dtype == series::Dtype::f64;
    }
    void block(kernels::ColumnView values) override {
        std::visit([this](auto span) { append(span); }, values);
    }
    series::ColumnData take() {
        if (as_floats_) return series::ColumnData(std::move(floats_));
        return series::ColumnData(std::move(integers_));
    }

private:
    void append(std::span<const double> span) { floats_.insert(floats_.end(), span.begin(), span.end()); }
    void append(std::span<const std::int64_t> span) { integers_.insert(integers_.end(), span.begin(), span.end()); }

    series::AlignedVector<std::int64_t> integers_;
    series::AlignedVector<double> floats_;
    bool as_floats_ = false;
};

}  // namespace

namespace {

void read_blocks(ErlNifEnv* env, ERL_NIF_TERM list, std::size_t length, ListDtype dtype, NumberBlocks& out) {
    if (dtype != ListDtype::f64 && read_as_i64(env, list, length, dtype, out)) return;
    read_as_f64(env, list, length, dtype, out);
}

}  // namespace

void read_number_list(ErlNifEnv* env, ERL_NIF_TERM list, ListDtype dtype, NumberBlocks& out) {
    if (out.needs_length()) {
        read_blocks(env, list, proper_list_length(env, list), dtype, out);
        return;
    }
    // Without the length walk up front, an improper list is found at the
    // walk's end: on any error, report it first, as decode_number_list does.
    if (!enif_is_list(env, list)) proper_list_length(env, list);  // throws: not a list
    try {
        read_blocks(env, list, 0, dtype, out);
    } catch (const std::invalid_argument&) {
        proper_list_length(env, list);
        throw;
    }
}

series::ColumnData decode_number_list(ErlNifEnv* env, ERL_NIF_TERM list, ListDtype dtype) {
    ColumnBlocks column;
    read_number_list(env, list, dtype, column);
    return column.take();
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
