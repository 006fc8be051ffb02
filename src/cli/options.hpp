// Command-line parsing shared by the sub-commands: Boost.Program_options errors become a
// widemax::Error that names the command, and --help gives the command's text. Private to src/cli/.
#pragma once

#include <boost/program_options.hpp>
#include <charconv>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "widemax/core/error.hpp"
#include "widemax/run/spec.hpp"

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

// A number as --help shows it: as one would write it (0.9, 1e-08, 2), the shortest text that reads
// back to the same double, where Boost's own formatting prints every digit (0.90000000000000002).
inline std::string shown(double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
// An option stored straight into `field`, whose current value is the default shown by --help.
template <class T>
boost::program_options::typed_value<T>* value_of(T& field) {
  if constexpr (std::is_floating_point_v<T>)
    return boost::program_options::value(&field)->default_value(field, shown(field));
  else
    return boost::program_options::value(&field)->default_value(field);
}

// An option given as text and kept as a typed value: `parse` turns the text into `field` when the
// options are notified (so a bad name is refused during parsing, naming the option), and --help
// shows `shown` as the default. The field must outlive the parse.
template <class T, class Parse>
boost::program_options::typed_value<std::string>* typed_value(T& field, Parse parse,
                                                              const std::string& shown) {
  return boost::program_options::value<std::string>()->default_value(shown)->notifier(
      [&field, parse](const std::string& text) { field = parse(text); });
}
// The same with the field's current value, by its name, as the default.
template <class T, class Parse>
boost::program_options::typed_value<std::string>* typed_value(T& field, Parse parse) {
  return typed_value(field, parse, to_string(field));
}
// An option without a default, parsed into `field` only when given.
template <class T, class Parse>
boost::program_options::typed_value<std::string>* typed_value_no_default(T& field, Parse parse) {
  return boost::program_options::value<std::string>()->notifier(
      [&field, parse](const std::string& text) { field = parse(text); });
}

// --overwrite, for every command that writes a run directory (`resumable`: it has --resume).
inline void add_overwrite_option(boost::program_options::options_description& d, run::RunSpec& r,
                                 bool resumable) {
  d.add_options()("overwrite", boost::program_options::bool_switch(&r.overwrite),
                  resumable ? "start a new run in an --out that holds another run's outputs, "
                              "removing them (without it such a run is refused; --resume "
                              "continues it instead)"
                            : "start a new run in an --out that holds another run's outputs, "
                              "removing them (without it such a run is refused)");
}

// The checkpoint, overwrite and resume options of every command that trains, into `r`; `ranks`
// ends the help of --resume (what the resumed run may run on).
inline void add_checkpoint_options(boost::program_options::options_description& d, run::RunSpec& r,
                                   const std::string& ranks) {
  namespace po = boost::program_options;
  d.add_options()("checkpoint-every", value_of(r.checkpoint_every),
                  "checkpoint every K steps and at the end, into RUN/checkpoints/step_N (0: never; "
                  "a preemption signal checkpoints anyway)")(
      "keep-checkpoints", value_of(r.keep_checkpoints), "keep the newest N checkpoints");
  add_overwrite_option(d, r, true);
  d.add_options()(
      "resume", typed_value_no_default(r.resume, run::parse_resume),
      ("continue from a checkpoint: 'auto' (the newest in --out, or start fresh when there is "
       "none) or a run or checkpoint directory; " +
       ranks)
          .c_str());
}

}  // namespace widemax::cli
