// The run directory. See run_dir.hpp.
#include "widemax/run/run_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/system.hpp"

namespace widemax::run {

namespace fs = std::filesystem;

std::string default_run_dir(const std::string& prefix) {
  if (const char* job = std::getenv("SLURM_JOB_ID")) {
    std::string name = "runs/" + prefix + "-" + job;
    if (const char* task = std::getenv("SLURM_ARRAY_TASK_ID")) name += std::string("_") + task;
    const char* restart = std::getenv("SLURM_RESTART_COUNT");
    return name + "-r" + (restart ? restart : "0");
  }
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + prefix + "-" + stamp;
}

bool holds_run_outputs(const fs::path& dir) {
  for (const char* name : {"config.json", "metrics.jsonl", "summary.json", "checkpoints", "W.npy",
                           "A.npy", "V.npy", "a.npy", "H.npy", "samples.csv"})
    if (fs::exists(fs::symlink_status(dir / name))) return true;
  return false;
}

namespace {

constexpr const char* kLockName = ".widemax.lock";

// Who holds a lock: written into the lock file by its holder, read by a refused run.
std::string holder_text() {
  std::string s = "host " + hostname() + ", pid " + std::to_string(::getpid());
  if (const char* job = std::getenv("SLURM_JOB_ID")) s += std::string(", Slurm job ") + job;
  return s;
}

// Rank 0's side of open_run_dir. Returns the lock's file descriptor; `error` is set (and -1
// returned) when the directory cannot be this run's.
int claim(const fs::path& dir, bool resuming, bool overwrite, std::string& error) {
  const int fd = ::open((dir / kLockName).c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = cat("--out: cannot create the lock file '", (dir / kLockName).string(),
                "': ", std::strerror(errno));
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[256] = {0};
    const ssize_t got = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    error = cat("--out: another run is using '", dir.string(), "' (",
                got > 0 ? std::string(buf, static_cast<std::size_t>(got)) : "holder unknown",
                "); wait for it to end, or choose another --out");
    return -1;
  }
  const std::string me = holder_text();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
  }  // the holder's name is only information: a failure to write it does not stop the run
  if (!resuming && holds_run_outputs(dir)) {
    if (!overwrite) {
      ::close(fd);
      error = cat("--out: '", dir.string(),
                  "' holds the outputs of another run (config.json, metrics, checkpoints ...); "
                  "continue it with --resume auto, replace it with --overwrite, or choose another "
                  "--out");
      return -1;
    }
    std::error_code ec;
    for (const char* name :
         {"config.json", "metrics.jsonl", "summary.json", "checkpoints", "W.npy", "A.npy", "V.npy",
          "a.npy", "H.npy", "samples.csv", "samples_exact.csv", "heldout.csv", "mixture.json",
          "baseline.json", "beta.npy", "eigenvalues.npy", "spectrum.csv", "ntk_samples.csv",
          "standardization.json"})
      fs::remove_all(dir / name, ec);
  }
  return fd;
}

}  // namespace

std::unique_ptr<RunDir> open_run_dir(const std::string& out, const std::string& prefix,
                                     const comm::Communicator& world, bool resuming,
                                     bool overwrite) {
  std::string path, error, hint;
  int fd = -1;
  if (world.rank() == 0) {
    try {
      if (out.empty()) {
        // A unique default: the first of base, base-2, base-3 ... that this rank creates itself.
        const std::string base = default_run_dir(prefix);
        std::error_code ec;
        fs::create_directories(fs::path(base).parent_path(), ec);
        for (int k = 1; k < 10000 && path.empty(); ++k) {
          const std::string name = k == 1 ? base : base + "-" + std::to_string(k);
          if (fs::create_directory(name, ec)) path = name;
          WIDEMAX_CHECK_HINT(!ec, "choose a directory you can write to with --out",
                             "cannot create the run directory '", name, "': ", ec.message());
        }
        WIDEMAX_CHECK(!path.empty(), "no free run directory name after ", base, "-9999");
      } else {
        path = out;
      }
      ensure_writable_dir(path, "--out");
      fd = claim(path, resuming, overwrite, error);
    } catch (const Error& e) {
      error = e.what();
      hint = e.hint();
    }
  }
  // Every rank refuses alike, so that none waits in a collective the others never reach.
  world.broadcast(path, 0);
  world.broadcast(error, 0);
  world.broadcast(hint, 0);
  if (!error.empty()) throw Error(error, __FILE__, __LINE__, hint, Error::Scope::kAllRanks);
  return std::make_unique<RunDir>(path, world.rank() == 0, fd);
}

RunDir::RunDir(std::filesystem::path path, bool writer, int lock_fd)
    : path_(std::move(path)), writer_(writer), lock_fd_(lock_fd) {
  if (!writer_) return;
  // A summary.json left by an earlier run here would make this run look finished if it fails, and
  // a preempted.json would make a job script take a later failure for a preemption.
  remove("summary.json");
  remove("preempted.json");
}

void RunDir::remove(const std::string& name) const {
  std::error_code ec;
  if (writer_) std::filesystem::remove(path_ / name, ec);
}

RunDir::~RunDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
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
