// Formatting of widemax::Error for the console. A user error is its message and hint: where in the
// source it was raised means nothing to the user. Only an internal error (a bug) gives the place.
#include "widemax/core/error.hpp"

#include <filesystem>

namespace widemax {

std::string describe(const Error& e) {
  std::string out = e.what();
  if (!e.hint().empty()) out += "\n  hint: " + e.hint();
  if (e.internal())
    out += cat("\n  (internal error at ", std::filesystem::path(e.file()).filename().string(), ":",
               e.line(), "; please report it)");
  return out;
}

}  // namespace widemax
