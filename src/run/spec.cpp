// --resume parsing and the checks and JSON form of the run request. See run/spec.hpp. Nothing
// here touches the disk: whether a checkpoint exists is for the run layer to find out.
#include "widemax/run/spec.hpp"

#include "widemax/core/error.hpp"

namespace widemax::run {

Resume parse_resume(const std::string& text) {
  Resume r;
  if (text.empty()) return r;
  if (text == "auto") {
    r.mode = Resume::Mode::kAuto;
  } else {
    r.mode = Resume::Mode::kPath;
    r.path = text;
  }
  return r;
}

std::string to_string(const Resume& r) {
  switch (r.mode) {
    case Resume::Mode::kNone:
      return "";
    case Resume::Mode::kAuto:
      return "auto";
    case Resume::Mode::kPath:
      return r.path;
  }
  return "";
}

void validate(const RunSpec& r) {
  WIDEMAX_CHECK(r.checkpoint_every >= 0, "--checkpoint-every must be >= 0, got ",
                r.checkpoint_every);
  WIDEMAX_CHECK(r.keep_checkpoints >= 1, "--keep-checkpoints must be >= 1, got ",
                r.keep_checkpoints);
  WIDEMAX_CHECK_HINT(r.resume.mode != Resume::Mode::kAuto || !r.out.empty(),
                     "give the run directory to continue with --out DIR",
                     "--resume auto continues the run in --out, but no --out was given");
}

nlohmann::json to_json(const RunSpec& r) {
  return {{"out", r.out},
          {"save", r.save},
          {"checkpoint_every", r.checkpoint_every},
          {"keep_checkpoints", r.keep_checkpoints},
          {"resume", to_string(r.resume)},
          {"overwrite", r.overwrite}};
}

}  // namespace widemax::run
