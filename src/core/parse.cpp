// Parsing of counts and lists given on the command line. See parse.hpp.
#include "widemax/core/parse.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "widemax/core/error.hpp"

namespace widemax {

namespace {

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

double parse_number(const std::string& s, const std::string& option, const std::string& whole) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  WIDEMAX_CHECK_HINT(!s.empty() && end == s.c_str() + s.size() && std::isfinite(v),
                     "write a whole number such as 65536, 1e6, 2^20 or 4M", option, ": '", whole,
                     "' is not a number");
  return v;
}

}  // namespace

std::int64_t parse_count(const std::string& text, const std::string& option) {
  const std::string s = trim(text);
  const char* hint = "write a whole number such as 65536, 1e6, 2^20 or 4M";
  double value = 0;
  if (const auto caret = s.find('^'); caret != std::string::npos) {
    const double base = parse_number(s.substr(0, caret), option, s);
    const double exponent = parse_number(s.substr(caret + 1), option, s);
    value = std::pow(base, exponent);
  } else if (!s.empty() && std::string("kKMG").find(s.back()) != std::string::npos) {
    const double mult = s.back() == 'G' ? 1e9 : s.back() == 'M' ? 1e6 : 1e3;
    value = parse_number(s.substr(0, s.size() - 1), option, s) * mult;
  } else {
    value = parse_number(s, option, s);
  }
  WIDEMAX_CHECK_HINT(value >= 1 && value < 9.0e18, hint, option, ": '", text,
                     "' must be a positive whole number");
  WIDEMAX_CHECK_HINT(value == std::floor(value), hint, option, ": '", text,
                     "' is not a whole number");
  return static_cast<std::int64_t>(value);
}

std::vector<std::string> split_list(const std::string& text, const std::string& option) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string item =
        trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    WIDEMAX_CHECK(!item.empty(), option, ": empty item in list '", text, "'");
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace widemax
