// Command-line parsing shared by the sub-commands: Boost.Program_options errors become a
// widemax::Error that names the command, and --help gives the command's text. Private to src/cli/.
#pragma once

#include <boost/program_options.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "widemax/core/error.hpp"

namespace widemax::cli {

// Stores `args` into `vm` against `desc` and runs the notifiers. Returns false when --help was
// asked for: `help_out` then holds `about`, a blank line and the options, and nothing is notified.
inline bool parse_options(const std::vector<std::string>& args,
                          const boost::program_options::options_description& desc,
                          const std::string& command, const std::string& about,
                          boost::program_options::variables_map& vm, std::string& help_out) {
  namespace po = boost::program_options;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    if (vm.count("help")) {
      std::ostringstream os;
      os << about << "\n\n" << desc;
      help_out = os.str();
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    WIDEMAX_FAIL_HINT("see widemax " + command + " --help", "widemax ", command, ": ", e.what());
  }
  return true;
}

}  // namespace widemax::cli
