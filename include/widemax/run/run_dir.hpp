// The run directory of docs/design.md §5: config.json (resolved configuration), metrics.jsonl (one
// JSON object per logged step, appended and flushed as training goes), summary.json (final figures)
// and, with --save, W.npy/A.npy. Only rank 0 writes the JSON files; whole files go through a
// temporary name and a rename. Tensors are written collectively by comm/npy_io.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "widemax/comm/communicator.hpp"

namespace widemax::run {

// "runs/<prefix>-YYYYmmdd-HHMMSS" (with the Slurm job and array task ids when present).
std::string default_run_dir(const std::string& prefix);

class RunDir {
 public:
  // `writer` is true on the one rank that writes JSON. On the writer the directory is created and
  // checked for writing (an Error names --out otherwise).
  RunDir(std::filesystem::path path, bool writer);
  const std::filesystem::path& path() const { return path_; }
  void write_json(const std::string& name, const nlohmann::json& j) const;
  void append_metrics(const nlohmann::json& j);
  // On resume from step s0: keeps the metrics lines of steps < s0 and appends after them.
  void resume_metrics(std::int64_t s0);

 private:
  std::filesystem::path path_;
  bool writer_;
  std::ofstream metrics_;
};

// The run directory of a command on every rank: `out`, or runs/<prefix>-<time> chosen by rank 0
// (so that all ranks agree), created and checked by rank 0, the JSON writer. Collective.
std::unique_ptr<RunDir> open_run_dir(const std::string& out, const std::string& prefix,
                                     const comm::Communicator& world);

}  // namespace widemax::run
