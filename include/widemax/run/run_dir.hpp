// The run directory of docs/design.md §5: config.json (resolved configuration), metrics.jsonl (one
// JSON object per logged step, appended and flushed as training goes), summary.json (final figures)
// and, with --save, W.npy/A.npy. Only rank 0 writes the JSON files; whole files go through a
// temporary name and a rename. Tensors are written collectively by comm/npy_io.
// A directory belongs to one run: rank 0 holds an exclusive lock on RUN/.widemax.lock (flock; the
// kernel releases it when the process dies) for the run's lifetime, and a new run is refused in a
// directory that holds another run's outputs unless it resumes or is told to overwrite.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "widemax/comm/communicator.hpp"

namespace widemax::run {

// The base name of a default run directory: "runs/<prefix>-<job>[_<task>]-r<restart>" under Slurm
// (job id, array task, restart count), else "runs/<prefix>-YYYYmmdd-HHMMSS". open_run_dir adds
// "-2", "-3", ... when it exists, so that two runs never share one.
std::string default_run_dir(const std::string& prefix);

// The files and directories that mark a directory as holding a run's outputs.
bool holds_run_outputs(const std::filesystem::path& dir);

class RunDir {
 public:
  // `writer` is true on the one rank that writes JSON. On the writer the directory is created and
  // checked for writing (an Error names --out otherwise).
  RunDir(std::filesystem::path path, bool writer, int lock_fd = -1);
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void write_json(const std::string& name, const nlohmann::json& j) const;
  void remove(const std::string& name) const;
  void append_metrics(const nlohmann::json& j);
  // On resume from step s0: keeps the metrics lines of steps < s0 and appends after them.
  void resume_metrics(std::int64_t s0);

 private:
  std::filesystem::path path_;
  bool writer_;
  int lock_fd_;  // rank 0's lock on .widemax.lock, released on destruction (or death)
  std::ofstream metrics_;
};

// The run directory of a command on every rank: `out`, or a unique default chosen by rank 0 (so
// that all ranks agree), created, checked and locked by rank 0, the JSON writer. Refused (on every
// rank, with the same message) when another live run holds it (naming its host, pid and Slurm
// job), or when it holds another run's outputs and the run neither resumes nor overwrites (which
// removes them). Collective.
std::unique_ptr<RunDir> open_run_dir(const std::string& out, const std::string& prefix,
                                     const comm::Communicator& world, bool resuming,
                                     bool overwrite);

}  // namespace widemax::run
