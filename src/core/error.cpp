// Formatting of widemax::Error for the console.
#include "widemax/core/error.hpp"

#include <filesystem>

namespace widemax {

std::string describe(const Error& e) {
  std::string out = e.what();
  if (!e.hint().empty()) out += "\n  hint: " + e.hint();
  out += cat("\n  (raised at ", std::filesystem::path(e.file()).filename().string(), ":", e.line(),
             ")");
  return out;
}

}  // namespace widemax
