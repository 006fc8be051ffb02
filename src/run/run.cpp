// The run layer. See run.hpp.
#include "widemax/run/run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <span>

#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/signals.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/system.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/core/version.hpp"
#include "widemax/model/peak.hpp"

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

nlohmann::json hardware_rate(const comm::Communicator& world, int threads, bool fp32,
                             double flops_per_step, double step_s) {
  world.barrier();
  const model::FmaPeak p = model::measure_fma_peak(threads, fp32, 0.02);
  const double total = world.allreduce_sum(p.gflops);
  const double rate = step_s > 0 ? flops_per_step / step_s * 1e-9 : 0.0;
  return {{"fma_peak_gflops", total},
          {"fma_isa", p.isa},
          {"step_gflops", rate},
          {"fraction_of_fma_peak", total > 0 ? rate / total : 0.0}};
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
  WIDEMAX_CHECK_ALL_HINT(std::isfinite(loss), hint, "training diverged: the loss is ", loss,
                         " at step ", step);
}

Run::Run(const RunSpec& spec, const std::string& command, const comm::Communicator& world,
         nlohmann::json runtime, bool write_outputs, std::int64_t total_steps)
    : spec_(spec),
      world_(world),
      total_steps_(total_steps),
      runtime_(std::move(runtime)),
      hosts_(world.allgather(hostname())),
      // The directory first, so that an unwritable or busy --out fails before any work.
      dir_(write_outputs
               ? open_run_dir(spec.out, command, world, spec.resume.requested(), spec.overwrite)
               : nullptr),
      progress_(write_outputs && spec.progress && world.rank() == 0, total_steps) {
  if (dir_) spec_.out = dir_->path().string();
  if (world.rank() == 0) {
    std::random_device rd;
    char id[20];
    std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
    run_id_ = id;
  }
  world.broadcast(run_id_, 0);
}

nlohmann::json absolute_inputs(const std::vector<std::pair<std::string, std::string>>& paths) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, path] : paths) {
    if (path.empty()) continue;
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(path, ec);
    j[name] = ec ? path : abs.lexically_normal().string();
  }
  return j;
}

nlohmann::json provenance(const std::vector<std::string>& hosts, int ranks,
                          const nlohmann::json& runtime, const nlohmann::json& inputs) {
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  std::string line;
  for (const auto& a : command_line()) line += (line.empty() ? "" : " ") + a;
  return {{"widemax_version", version()},
          {"git_commit", git_commit()},
          {"command_line", line},
          {"argv", command_line()},
          {"cwd", ec ? std::string() : cwd.string()},
          {"inputs", inputs},
          {"hosts", hosts},
          {"ranks", ranks},
          {"runtime", runtime},
          {"slurm", slurm_keys()}};
}

void Run::write_config(nlohmann::json plan, const nlohmann::json& inputs) const {
  if (!dir_) return;
  plan["run_id"] = run_id_;
  if (!resume_record_.empty()) plan["resumed"] = resume_record_;
  plan["provenance"] = provenance(hosts_, world_.size(), runtime_, inputs);
  dir_->write_json("config.json", plan);
}

void Run::write_json(const std::string& name, const nlohmann::json& j) const {
  if (dir_) dir_->write_json(name, j);
}

void Run::append_metrics(const nlohmann::json& j) {
  if (!dir_) return;
  if (pending_changes_.empty()) return dir_->append_metrics(j);
  nlohmann::json with = j;
  with["changed_at_resume"] = pending_changes_;
  pending_changes_ = nlohmann::json();
  dir_->append_metrics(with);
}

nlohmann::json Run::finish(nlohmann::json s) {
  s["ranks"] = world_.size();
  s["hosts"] = hosts_;
  s["runtime"] = runtime_;
  const nlohmann::json slurm = slurm_keys();
  if (!slurm.empty()) s["slurm"] = slurm;
  if (!last_checkpoint_.empty()) s["checkpoint_write_max_s"] = max_checkpoint_s_;
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

void Run::check_resume(const nlohmann::json& manifest, const std::filesystem::path& ckpt,
                       const nlohmann::json& plan, const std::vector<std::string>& may_change) {
  if (!manifest.contains("config") || !manifest["config"].is_object()) return;  // before 0.1.0
  const nlohmann::json& old = manifest["config"];
  // The run layer's own request (RunSpec), the length, logging and the threads may always change;
  // the command adds what else may.
  static const std::vector<std::string> run_keys = {
      "steps",  "log_every", "out",       "save",    "checkpoint_every", "keep_checkpoints",
      "resume", "progress",  "overwrite", "threads", "threads_resolved"};
  auto changeable = [&](const std::string& k) {
    return std::find(run_keys.begin(), run_keys.end(), k) != run_keys.end() ||
           std::find(may_change.begin(), may_change.end(), k) != may_change.end();
  };
  std::string refused;
  nlohmann::json changes = nlohmann::json::array();
  std::vector<std::string> keys;
  for (const auto& [k, v] : old.items()) keys.push_back(k);
  for (const auto& [k, v] : plan.items())
    if (!old.contains(k)) keys.push_back(k);
  for (const auto& k : keys) {
    if (k == "provenance" || k == "run_id" || k == "resumed") continue;
    const nlohmann::json was = old.value(k, nlohmann::json()),
                         now = plan.value(k, nlohmann::json());
    if (was == now) continue;
    if (changeable(k)) {
      changes.push_back({{"field", k}, {"from", was}, {"to", now}});
    } else {
      refused += cat(refused.empty() ? "" : ", ", k, " ", was.dump(), " -> ", now.dump());
    }
  }
  WIDEMAX_CHECK_HINT(refused.empty(),
                     "resume with the options the checkpoint was written with (its "
                     "manifest.json holds them under \"config\"), or start a new run in "
                     "another --out",
                     "--resume: checkpoint ", ckpt.string(),
                     " was written by a run with another plan: ", refused);
  resume_record_ = {{"from", ckpt.string()}, {"changes", changes}};
  if (!changes.empty()) pending_changes_ = changes;
}

void Run::resumed(const std::filesystem::path& ckpt, const nlohmann::json& manifest,
                  std::int64_t s0) {
  WIDEMAX_CHECK_HINT(total_steps_ >= s0, "give --steps at least the checkpoint's step", "--steps ",
                     total_steps_, " is below the step ", s0, " of the checkpoint ", ckpt.string());
  if (manifest.contains("run_id") && manifest["run_id"].is_string())
    run_id_ = manifest["run_id"].get<std::string>();
  resume_record_["from"] = ckpt.string();
  resume_record_["step"] = s0;
  const std::string grid =
      manifest.contains("grid") ? " on grid " + manifest.value("grid", "") : std::string();
  log::info(cat("resuming from ", ckpt.string(), " at step ", s0, " (written by ",
                manifest.value("ranks", 0), " ranks", grid, ")"));
  if (dir_ && s0 > 0) dir_->resume_metrics(s0);
}

int Run::agree(std::int64_t step, bool gradient_finite, const char* hint) {
  int flags[2] = {preemption_signal(), gradient_finite ? 0 : 1};
  world_.allreduce_max(std::span<int>(flags));
  WIDEMAX_CHECK_ALL_HINT(!flags[1], hint,
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
  nlohmann::json m = manifest;
  m["run_id"] = run_id_;
  double bytes = 0;
  for (const auto& t : tensors)
    bytes += static_cast<double>(t.global_rows) * static_cast<double>(t.cols) * sizeof(T);
  // Timed from the first rank's start to the last rank's end: the write time the job scripts'
  // signal lead and kill delay must cover (docs/slurm.md, "Preemption").
  world_.barrier();
  Stopwatch sw;
  const auto path =
      write_checkpoint(world_, dir_->path(), step, tensors, m, spec_.keep_checkpoints);
  last_checkpoint_ = path;
  last_checkpoint_s_ = sw.seconds();
  max_checkpoint_s_ = std::max(max_checkpoint_s_, last_checkpoint_s_);
  char what[64];
  std::snprintf(what, sizeof what, " (%.0f MB in %.2f s)", bytes / 1e6, last_checkpoint_s_);
  log::info(cat("checkpoint: ", path.string(), what));
}

void Run::preempted(int signal, std::int64_t step) {
  progress_.finish();
  if (dir_) {
    const nlohmann::json slurm = slurm_keys();
    dir_->write_json("preempted.json",
                     {{"step", step},
                      {"signal", signal},
                      {"checkpoint", last_checkpoint_.string()},
                      {"checkpoint_write_s", last_checkpoint_s_},
                      {"run_id", run_id_},
                      {"slurm_job_id", slurm.value("SLURM_JOB_ID", "")},
                      {"slurm_restart_count", slurm.value("SLURM_RESTART_COUNT", "0")},
                      {"time", static_cast<std::int64_t>(std::time(nullptr))}});
  }
  log::info(cat("preempted by signal ", signal, " (on at least one rank) at step ", step,
                ": checkpoint written; continue with --resume auto (exit status ", kExitPreempted,
                ")"));
}

template void Run::checkpoint<double>(std::int64_t, const std::vector<Tensor<const double>>&,
                                      const nlohmann::json&);
template void Run::checkpoint<float>(std::int64_t, const std::vector<Tensor<const float>>&,
                                     const nlohmann::json&);

}  // namespace widemax::run
