// The run directory. See run_dir.hpp.
#include "widemax/run/run_dir.hpp"

#include <cstdlib>
#include <ctime>

#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"

namespace widemax::run {

std::string default_run_dir(const std::string& prefix) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  std::string name = "runs/" + prefix + "-" + stamp;
  if (const char* job = std::getenv("SLURM_JOB_ID")) {
    name = "runs/" + prefix + "-" + job;
    if (const char* task = std::getenv("SLURM_ARRAY_TASK_ID")) name += std::string("_") + task;
  }
  return name;
}

std::unique_ptr<RunDir> open_run_dir(const std::string& out, const std::string& prefix,
                                     const comm::Communicator& world) {
  std::string path = out.empty() ? default_run_dir(prefix) : out;
  world.broadcast(path, 0);
  return std::make_unique<RunDir>(path, world.rank() == 0);
}

RunDir::RunDir(std::filesystem::path path, bool writer) : path_(std::move(path)), writer_(writer) {
  if (!writer_) return;
  ensure_writable_dir(path_, "--out");
  // A summary.json left by an earlier run here would make this run look finished if it fails.
  std::error_code ec;
  std::filesystem::remove(path_ / "summary.json", ec);
}

void RunDir::write_json(const std::string& name, const nlohmann::json& j) const {
  if (writer_) write_file_atomic(path_ / name, j.dump(2) + "\n");
}

void RunDir::resume_metrics(std::int64_t s0) {
  if (!writer_) return;
  std::ifstream in(path_ / "metrics.jsonl");
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).value("step", s0) < s0) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      break;  // a line cut short by the crash: it and what follows are dropped
    }
  }
  in.close();
  write_file_atomic(path_ / "metrics.jsonl", kept);
  metrics_.open(path_ / "metrics.jsonl", std::ios::app);
  WIDEMAX_CHECK(metrics_, "--out: cannot write '", (path_ / "metrics.jsonl").string(), "'");
}

void RunDir::append_metrics(const nlohmann::json& j) {
  if (!writer_) return;
  if (!metrics_.is_open()) {  // opened (and truncated) on first use: `widemax ntk` writes none
    metrics_.open(path_ / "metrics.jsonl", std::ios::trunc);
    WIDEMAX_CHECK(metrics_, "--out: cannot write '", (path_ / "metrics.jsonl").string(), "'");
  }
  metrics_ << j.dump() << '\n';
  metrics_.flush();
  WIDEMAX_CHECK_HINT(metrics_.good(), "free space on the file system of --out", "--out: writing '",
                     (path_ / "metrics.jsonl").string(),
                     "' failed (file system full or read-only?)");
}

}  // namespace widemax::run
