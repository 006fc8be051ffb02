// Parsing of user-facing numbers: widths such as "65536", "1e6", "2^20", and lists "a,b".
// Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace widemax {

// Parses a positive integer count written as "65536", "1e6", "1.5e3", "2^20" or "4k"/"1M"/"1G"
// (powers of 1000). Throws an Error naming `option` when the text is not an exact whole number > 0.
std::int64_t parse_count(const std::string& text, const std::string& option);

// Splits "a,b , c" into {"a","b","c"}; empty items are an error naming `option`.
std::vector<std::string> split_list(const std::string& text, const std::string& option);

}  // namespace widemax
