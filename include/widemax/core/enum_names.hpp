// The names of an option's enum values, written once per enum as a table of {value, name} pairs:
// parse_enum turns the text of an option into the value (or a widemax::Error naming the option,
// with the choices as the hint), enum_name turns a value back into the text that config.json
// and summary.json record. Only the lookup lives here; each module keeps its own tables next to
// its enums, so that core/ knows none of them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "widemax/core/error.hpp"

namespace widemax {

template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

// "a | b | c": the choices of a table, for hints and help.
template <class E, std::size_t N>
std::string enum_choices(const EnumName<E> (&table)[N]) {
  std::string s;
  for (const auto& e : table) {
    if (!s.empty()) s += " | ";
    s += e.name;
  }
  return s;
}

// The value named `text`, else an Error "<option>: unknown <noun> '<text>'" with `hint`, or
// "choose a | b | c" when no hint is given.
template <class E, std::size_t N>
E parse_enum(const EnumName<E> (&table)[N], std::string_view text, std::string_view option,
             std::string_view noun, const std::string& hint = {}) {
  for (const auto& e : table)
    if (e.name == text) return e.value;
  WIDEMAX_FAIL_HINT(hint.empty() ? "choose " + enum_choices(table) : hint, option, ": unknown ",
                    noun, " '", text, "'");
}

// The name of `value`; "?" for a value missing from the table (a programming error, but one
// that should not take a run down while it writes its summary).
template <class E, std::size_t N>
std::string enum_name(const EnumName<E> (&table)[N], E value) {
  for (const auto& e : table)
    if (e.value == value) return std::string(e.name);
  return "?";
}

}  // namespace widemax
