// What every command that runs (train, ntk, diffusion, polarize) asks of its run directory:
// where it goes, what is saved, how often it checkpoints, whether it resumes, progress output.
// Only the request lives here, parsed from the command line by cli/; the run layer (run.hpp)
// turns it into a directory, a checkpoint store and the preemption protocol.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace widemax::run {

// --resume: none, "auto" (the newest complete checkpoint in --out, or a fresh start when there is
// none) or an explicit run or checkpoint directory.
struct Resume {
  enum class Mode { kNone, kAuto, kPath };
  Mode mode = Mode::kNone;
  std::string path;  // kPath only
  bool requested() const { return mode != Mode::kNone; }
};

// Parses the text of --resume ("" -> none, "auto", else a path).
Resume parse_resume(const std::string& text);
std::string to_string(const Resume& r);

struct RunSpec {
  std::string out;                    // run directory; empty: a unique default under runs/
  bool save = false;                  // write the final tensors (W.npy, A.npy / V.npy, a.npy)
  std::int64_t checkpoint_every = 0;  // checkpoint every K steps and at the end (0: never)
  int keep_checkpoints = 2;           // the newest N complete checkpoints are kept
  Resume resume;
  bool progress = true;  // rank 0 progress output
  // A new run (no --resume) in a directory that holds another run's outputs replaces them instead
  // of being refused.
  bool overwrite = false;
};

// Checks ranges (Error naming the option).
void validate(const RunSpec& r);
nlohmann::json to_json(const RunSpec& r);

}  // namespace widemax::run
