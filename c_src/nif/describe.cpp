#include "describe.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string_view>

#include "atoms.hpp"

namespace analytics::nif {
namespace {

constexpr std::size_t kDescribeLimit = 120;

bool is_plain_atom(std::string_view name) {
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@'; };
    if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
    if (name.back() == '?' || name.back() == '!') name.remove_suffix(1);
    return std::all_of(name.begin(), name.end(), word);
}

// Elixir.Foo.Bar is written Foo.Bar.
bool is_alias(std::string_view name) {
    constexpr std::string_view prefix = "Elixir.";
    if (!name.starts_with(prefix) || name.size() == prefix.size()) return false;
    name.remove_prefix(prefix.size());
    bool segment_start = true;
    for (char c : name) {
        if (segment_start && !std::isupper(static_cast<unsigned char>(c))) return false;
        segment_start = c == '.';
        if (!segment_start && !std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return !segment_start;
}

// Floats as Elixir writes them (shortest round trip): 1.5, 1.0e20.
std::string float_text(double value) {
    std::array<char, 32> buffer{};
    const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
    std::string text(buffer.data(), end);
    const std::size_t exponent = text.find('e');
    if (text.find('.') == std::string::npos) text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
    if (const std::size_t plus = text.find("e+"); plus != std::string::npos) text.erase(plus + 1, 1);
    return text;
}

// Length of the UTF-8 sequence starting at `bytes`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view bytes) {
    const auto lead = static_cast<unsigned char>(bytes[0]);
    const std::size_t length = lead < 0x80           ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xe  ? 3
                               : (lead >> 3) == 0x1e ? 4
                                                     : 0;
    if (length == 0 || length > bytes.size()) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((static_cast<unsigned char>(bytes[i]) & 0xc0) != 0x80) return 0;
    }
    return length;
}

// The escape inspect/1 uses inside a string, or 0 for a plain character.
char string_escape(char c) {
    switch (c) {
        case '"': return '"';
        case '\\': return '\\';
        case '\n': return 'n';
        case '\t': return 't';
        case '\r': return 'r';
        case '\f': return 'f';
        case '\v': return 'v';
        case '\b': return 'b';
        case '\a': return 'a';
        case '\x1b': return 'e';
        default: return 0;
    }
}

// Printable as inspect/1 sees it: valid UTF-8 with no control characters
// other than those with an escape.
bool is_printable(std::string_view bytes) {
    while (!bytes.empty()) {
        const std::size_t length = utf8_sequence(bytes);
        if (length == 0) return false;
        if (length == 1 && static_cast<unsigned char>(bytes[0]) < 0x20 && string_escape(bytes[0]) == 0) return false;
        if (length == 1 && bytes[0] == 0x7f) return false;
        bytes.remove_prefix(length);
    }
    return true;
}

// Writes a term, stopping once `kDescribeLimit` characters are out (so a
// deeply nested or huge term costs no more than a short one).
class Writer {
public:
    explicit Writer(ErlNifEnv* env) : env_(env) {}

    std::string finish() && {
        if (out_.size() > kDescribeLimit) {
            out_.resize(kDescribeLimit);
            out_ += "...";
        }
        return std::move(out_);
    }

    void term(ERL_NIF_TERM t) {
        if (full()) return;
        switch (enif_term_type(env_, t)) {
            case ERL_NIF_TERM_TYPE_ATOM: return atom(t);
            case ERL_NIF_TERM_TYPE_FLOAT: return floating(t);
            case ERL_NIF_TERM_TYPE_BITSTRING: return bitstring(t);
            case ERL_NIF_TERM_TYPE_LIST: return list(t);
            case ERL_NIF_TERM_TYPE_TUPLE: return tuple(t);
            case ERL_NIF_TERM_TYPE_MAP: return map(t);
            case ERL_NIF_TERM_TYPE_PID: return opaque(t, "#PID", "");
            case ERL_NIF_TERM_TYPE_PORT: return opaque(t, "#Port", "#Port");
            case ERL_NIF_TERM_TYPE_REFERENCE: return opaque(t, "#Reference", "#Ref");
            case ERL_NIF_TERM_TYPE_FUN: return function(t);
            default: return opaque(t, "", "");  // integers, bignums included, print as Elixir does
        }
    }

private:
    bool full() const { return out_.size() > kDescribeLimit; }

    std::string_view atom_name(ERL_NIF_TERM t) {
        if (!enif_get_atom(env_, t, name_.data(), name_.size(), ERL_NIF_LATIN1)) return {};
        return std::string_view(name_.data());
    }

    void atom(ERL_NIF_TERM t) {
        const std::string_view name = atom_name(t);
        if (name == "nil" || name == "true" || name == "false") {
            out_ += name;
        } else if (is_alias(name)) {
            out_ += name.substr(7);
        } else if (is_plain_atom(name)) {
            out_ += ':';
            out_ += name;
        } else {
            out_ += ":";
            quoted(name);
        }
    }

    void floating(ERL_NIF_TERM t) {
        double value = 0;
        enif_get_double(env_, t, &value);
        out_ += float_text(value);
    }

    void quoted(std::string_view text) {
        out_ += '"';
        for (char c : text) {
            if (full()) return;
            if (const char e = string_escape(c)) {
                out_ += '\\';
                out_ += e;
            } else {
                out_ += c;
            }
        }
        out_ += '"';
    }

    void bitstring(ERL_NIF_TERM t) {
        ErlNifBinary binary;
        if (!enif_inspect_binary(env_, t, &binary)) return opaque(t, "", "");  // a bitstring that is not bytes
        const std::string_view bytes(reinterpret_cast<const char*>(binary.data),
                                     std::min(binary.size, kDescribeLimit + 1));
        // Only the start is shown, so a multi-byte character cut by the limit
        // must not make a printable string look binary.
        std::string_view checked = bytes;
        if (binary.size > bytes.size()) checked.remove_suffix(std::min<std::size_t>(3, checked.size()));
        if (is_printable(checked)) return quoted(bytes);
        out_ += "<<";
        for (std::size_t i = 0; i < bytes.size() && !full(); ++i) {
            if (i > 0) out_ += ", ";
            out_ += std::to_string(static_cast<unsigned char>(bytes[i]));
        }
        out_ += ">>";
    }

    // A charlist as inspect/1 of Elixir 1.14 writes it: 'abc'.
    bool charlist(ERL_NIF_TERM t) {
        std::string text;
        ERL_NIF_TERM head, tail = t;
        int c;
        while (enif_get_list_cell(env_, tail, &head, &tail)) {
            if (!enif_get_int(env_, head, &c) || c < 0x20 || c > 0x7e) return false;
            if (text.size() <= kDescribeLimit) text += static_cast<char>(c);
        }
        if (!enif_is_empty_list(env_, tail) || text.empty()) return false;
        out_ += '\'';
        for (char ch : text) {
            if (ch == '\'' || ch == '\\') out_ += '\\';
            out_ += ch;
        }
        out_ += '\'';
        return true;
    }

    // {atom, value}: an element of a keyword list.
    bool keyword_pair(ERL_NIF_TERM t, ERL_NIF_TERM* key, ERL_NIF_TERM* value) {
        int arity;
        const ERL_NIF_TERM* elements;
        if (!enif_get_tuple(env_, t, &arity, &elements) || arity != 2 || !enif_is_atom(env_, elements[0])) return false;
        *key = elements[0];
        *value = elements[1];
        return true;
    }

    bool keyword_list(ERL_NIF_TERM t) {
        ERL_NIF_TERM head, tail = t, key, value;
        while (enif_get_list_cell(env_, tail, &head, &tail)) {
            if (!keyword_pair(head, &key, &value)) return false;
        }
        return enif_is_empty_list(env_, tail);
    }

    // key: as in a keyword list or a map with atom keys.
    void key(ERL_NIF_TERM k) {
        const std::string_view name = atom_name(k);
        if (is_plain_atom(name)) {
            out_ += name;
        } else {
            quoted(name);
        }
        out_ += ": ";
    }

    void list(ERL_NIF_TERM t) {
        if (charlist(t)) return;
        const bool keywords = keyword_list(t);
        out_ += '[';
        ERL_NIF_TERM head, tail = t, k, value;
        for (bool first = true; !full() && enif_get_list_cell(env_, tail, &head, &tail); first = false) {
            if (!first) out_ += ", ";
            if (keywords && keyword_pair(head, &k, &value)) {
                key(k);
                term(value);
            } else {
                term(head);
            }
        }
        if (!full() && !enif_is_empty_list(env_, tail)) {
            out_ += " | ";
            term(tail);
        }
        out_ += ']';
    }

    void tuple(ERL_NIF_TERM t) {
        int arity;
        const ERL_NIF_TERM* elements;
        enif_get_tuple(env_, t, &arity, &elements);
        out_ += '{';
        for (int i = 0; i < arity && !full(); ++i) {
            if (i > 0) out_ += ", ";
            term(elements[i]);
        }
        out_ += '}';
    }

    void map(ERL_NIF_TERM t) {
        ERL_NIF_TERM module;
        const bool is_struct = enif_get_map_value(env_, t, atoms::struct_, &module) && enif_is_atom(env_, module);
        out_ += '%';
        if (is_struct) {
            const std::string_view name = atom_name(module);
            out_ += is_alias(name) ? name.substr(7) : name;
        }
        out_ += '{';
        ErlNifMapIterator it;
        if (!enif_map_iterator_create(env_, t, &it, ERL_NIF_MAP_ITERATOR_FIRST)) return;
        bool first = true;
        ERL_NIF_TERM k, value;
        for (; !full() && enif_map_iterator_get_pair(env_, &it, &k, &value); enif_map_iterator_next(env_, &it)) {
            if (is_struct && (enif_is_identical(k, atoms::struct_) || enif_is_identical(k, atoms::exception))) continue;
            if (!first) out_ += ", ";
            first = false;
            if (enif_is_atom(env_, k)) {
                key(k);
            } else {
                term(k);
                out_ += " => ";
            }
            term(value);
        }
        enif_map_iterator_destroy(env_, &it);
        out_ += '}';
    }

    // #Fun<erl_eval.6.1234> or fun 'Elixir.String':length/1, as #Function<...>.
    void function(ERL_NIF_TERM t) {
        const std::string form = erlang_form(t);
        std::string_view text(form);
        for (std::string_view wrapper : {std::string_view("#Fun<"), std::string_view("fun ")}) {
            if (text.starts_with(wrapper)) text.remove_prefix(wrapper.size());
        }
        if (text.ends_with('>')) text.remove_suffix(1);
        out_ += "#Function<";
        out_ += text;
        out_ += '>';
    }

    // Erlang's own form, with Elixir's name for the type: #Ref<0.1.2.3>
    // becomes #Reference<0.1.2.3>.
    void opaque(ERL_NIF_TERM t, std::string_view elixir_prefix, std::string_view erlang_prefix) {
        const std::string form = erlang_form(t);
        std::string_view text(form);
        if (text.starts_with(erlang_prefix)) text.remove_prefix(erlang_prefix.size());
        out_ += elixir_prefix;
        out_ += text;
    }

    // Erlang's %T text of a term, one character past the limit at most, so
    // that a cut text still shows "...".
    std::string erlang_form(ERL_NIF_TERM t) const {
        std::array<char, kDescribeLimit + 2> buffer{};
        enif_snprintf(buffer.data(), buffer.size(), "%T", t);
        return std::string(buffer.data());
    }

    ErlNifEnv* env_;
    std::string out_;
    std::array<char, 256> name_{};
};

}  // namespace

std::string describe(ErlNifEnv* env, ERL_NIF_TERM term) {
    Writer writer(env);
    writer.term(term);
    return std::move(writer).finish();
}

}  // namespace analytics::nif
