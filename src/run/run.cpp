// The run layer. See run.hpp.
#include "widemax/run/run.hpp"

#include <cmath>
#include <cstdlib>
#include <span>

#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/signals.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/system.hpp"
#include "widemax/core/version.hpp"

namespace widemax::run {

namespace {
std::vector<std::string>& command_line() {
  static std::vector<std::string> args;
  return args;
}
}  // namespace

void set_command_line(int argc, char** argv) {
  command_line().assign(argv, argv + argc);
}

nlohmann::json slurm_keys() {
  nlohmann::json slurm = nlohmann::json::object();
  for (const char* k :
       {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_NODELIST",
        "SLURM_NTASKS", "SLURM_JOB_PARTITION", "SLURM_RESTART_COUNT"})
    if (const char* v = std::getenv(k)) slurm[k] = v;
  return slurm;
}

nlohmann::json timings(double wall_s, double train_s, double comm_s,
                       const std::vector<double>& step_times, const char* rate_key,
                       double work_per_step) {
  const double med = median(step_times);
  nlohmann::json j = {{"wall_s", wall_s},
                      {"train_s", train_s},
                      {"compute_s", train_s - comm_s},
                      {"comm_s", comm_s},
                      {"comm_fraction", train_s > 0 ? comm_s / train_s : 0.0},
                      {"step_time_median_s", med}};
  if (rate_key) j[rate_key] = med > 0 ? work_per_step / med : 0.0;
  return j;
}

void check_loss(double loss, std::int64_t step, const char* hint) {
  WIDEMAX_CHECK_HINT(std::isfinite(loss), hint, "training diverged: the loss is ", loss,
                     " at step ", step);
}

Run::Run(const RunSpec& spec, const std::string& command, const comm::Communicator& world,
         nlohmann::json runtime, bool write_outputs, std::int64_t total_steps)
    : spec_(spec),
      world_(world),
      runtime_(std::move(runtime)),
      hosts_(world.allgather(hostname())),
      // The directory first, so that an unwritable --out fails before any work.
      dir_(write_outputs ? open_run_dir(spec.out, command, world) : nullptr),
      progress_(write_outputs && spec.progress && world.rank() == 0, total_steps) {
  if (dir_) spec_.out = dir_->path().string();
}

void Run::write_config(nlohmann::json plan) const {
  if (!dir_) return;
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  std::string line;
  for (const auto& a : command_line()) line += (line.empty() ? "" : " ") + a;
  plan["provenance"] = {{"widemax_version", version()},
                        {"git_commit", git_commit()},
                        {"command_line", line},
                        {"argv", command_line()},
                        {"cwd", ec ? std::string() : cwd.string()},
                        {"hosts", hosts_},
                        {"ranks", world_.size()},
                        {"runtime", runtime_},
                        {"slurm", slurm_keys()}};
  dir_->write_json("config.json", plan);
}

void Run::write_json(const std::string& name, const nlohmann::json& j) const {
  if (dir_) dir_->write_json(name, j);
}

void Run::append_metrics(const nlohmann::json& j) {
  if (dir_) dir_->append_metrics(j);
}

nlohmann::json Run::finish(nlohmann::json s) {
  s["ranks"] = world_.size();
  s["hosts"] = hosts_;
  s["runtime"] = runtime_;
  const nlohmann::json slurm = slurm_keys();
  if (!slurm.empty()) s["slurm"] = slurm;
  if (dir_) dir_->write_json("summary.json", s);
  return s;
}

std::optional<std::filesystem::path> Run::resume_point() const {
  if (!spec_.resume.requested()) return std::nullopt;
  const bool automatic = spec_.resume.mode == Resume::Mode::kAuto;
  const std::string where = automatic ? spec_.out : spec_.resume.path;
  const auto ckpt = find_checkpoint(where);
  WIDEMAX_CHECK_HINT(ckpt || automatic, "give a run directory or a checkpoint directory",
                     "--resume: no complete checkpoint in '", where, "'");
  if (!ckpt) log::info(cat("--resume auto: no checkpoint in ", where, " yet: starting at step 0"));
  return ckpt;
}

void Run::resumed(const std::filesystem::path& ckpt, const nlohmann::json& manifest,
                  std::int64_t s0) {
  const std::string grid =
      manifest.contains("grid") ? " on grid " + manifest.value("grid", "") : std::string();
  log::info(cat("resuming from ", ckpt.string(), " at step ", s0, " (written by ",
                manifest.value("ranks", 0), " ranks", grid, ")"));
  if (dir_ && s0 > 0) dir_->resume_metrics(s0);
}

int Run::agree(std::int64_t step, bool gradient_finite, const char* hint) {
  int flags[2] = {preemption_signal(), gradient_finite ? 0 : 1};
  world_.allreduce_max(std::span<int>(flags));
  WIDEMAX_CHECK_HINT(!flags[1], hint,
                     "training diverged: the gradient has NaN or Inf entries at step ", step);
  return flags[0];
}

bool Run::checkpoint_due(std::int64_t step, std::int64_t first) const {
  return spec_.checkpoint_every > 0 && step > first && step % spec_.checkpoint_every == 0;
}

template <class T>
void Run::checkpoint(std::int64_t step, const std::vector<Tensor<const T>>& tensors,
                     const nlohmann::json& manifest) {
  WIDEMAX_CHECK_HINT(dir_, "give --out", "checkpoint at step ", step,
                     " but there is no run directory to checkpoint into");
  const auto path =
      write_checkpoint(world_, dir_->path(), step, tensors, manifest, spec_.keep_checkpoints);
  log::info(cat("checkpoint: ", path.string()));
}

void Run::preempted(int signal, std::int64_t step) {
  progress_.finish();
  log::info(cat("preempted by signal ", signal, " (on at least one rank) at step ", step,
                ": checkpoint written; continue with --resume auto (exit status ", kExitPreempted,
                ")"));
}

template void Run::checkpoint<double>(std::int64_t, const std::vector<Tensor<const double>>&,
                                      const nlohmann::json&);
template void Run::checkpoint<float>(std::int64_t, const std::vector<Tensor<const float>>&,
                                     const nlohmann::json&);

}  // namespace widemax::run
