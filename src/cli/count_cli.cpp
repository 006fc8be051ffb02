// `widemax count [--name KEY] VALUE...`: prints each VALUE as the whole number that --width, --n
// or --T would read from it ("2^18" -> 262144, "1e6" -> 1000000, "4M" -> 4000000), one per line.
// The job scripts and experiment runners call it, so that a width given to them means exactly
// what it means to widemax (bash's $((2^18)) is an XOR) and a bad one is refused by name.
// Deliberately not: any MPI, or anything but rank 0 printing.
#include <cstdio>
#include <string>
#include <vector>

#include "widemax/cli/commands.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/parse.hpp"

namespace widemax::cli {

namespace {
constexpr const char* kHelp =
    "widemax count: print counts as widemax reads them (2^18, 1e6, 4M, 65536)\n"
    "\n"
    "Usage: widemax count [--name KEY] VALUE...\n"
    "\n"
    "  --name KEY   the name an error names the value by (default: count)\n"
    "\n"
    "Each VALUE is printed as a whole number, one per line, in the grammar of --width: digits,\n"
    "1e6 or 1.5e3, 2^20, and k/M/G suffixes (powers of 1000). Anything else, zero or a fraction\n"
    "is an error naming KEY and the value, with exit status 2.\n";
}  // namespace

int run_count(const std::vector<std::string>& args) {
  std::string name = "count";
  std::vector<std::string> values;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      if (log::rank() == 0) std::fputs(kHelp, stdout);
      return 0;
    }
    if (args[i] == "--name") {
      WIDEMAX_CHECK_ALL_HINT(i + 1 < args.size(), "widemax count --name KEY VALUE...",
                             "--name needs a value");
      name = args[++i];
      continue;
    }
    values.push_back(args[i]);
  }
  WIDEMAX_CHECK_ALL_HINT(!values.empty(), "widemax count --name KEY VALUE...", name,
                         ": no value given");
  std::vector<std::int64_t> counts;
  try {
    for (const auto& v : values) counts.push_back(parse_count(v, name));
  } catch (const Error& e) {
    // A function of the arguments alone: every rank refuses alike (printed once, no abort).
    throw Error(e.what(), e.file(), e.line(), e.hint(), Error::Scope::kAllRanks);
  }
  if (log::rank() == 0)
    for (const auto c : counts) std::printf("%lld\n", static_cast<long long>(c));
  return 0;
}

}  // namespace widemax::cli
