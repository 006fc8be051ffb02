// The run layer: what every command that trains (train, ntk, diffusion, polarize) does around its
// own loop, written once. A Run owns the run directory (config.json with provenance,
// metrics.jsonl, summary.json), the progress line, the checkpoint policy (--checkpoint-every,
// --keep-checkpoints, --resume) and the per-step protocol that stops a run on divergence or
// preemption. A command's own file keeps only its loop, its metrics and the list of its state
// tensors.
// Collectives: the constructor (the directory's path, the hosts), agree() (one MAX all-reduce
// over the world per step), checkpoint() and finish(). Every rank calls them in the same order.
// Not here: what a step computes, which checkpoint fields must match on resume (the commands
// check their own), the tensors' meaning.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "widemax/comm/communicator.hpp"
#include "widemax/run/checkpoint.hpp"
#include "widemax/run/progress.hpp"
#include "widemax/run/run_dir.hpp"
#include "widemax/run/spec.hpp"

namespace widemax::run {

// The process's command line, recorded by main() for the provenance of every run.
void set_command_line(int argc, char** argv);

// The files a command read, by option name (for example {"data", "in.csv"}), made absolute against
// the working directory, so that a run directory says which file it came from wherever it is read.
// Empty paths are left out.
nlohmann::json absolute_inputs(const std::vector<std::pair<std::string, std::string>>& paths);

// What config.json records under "provenance", and `widemax predict` beside its predictions: the
// widemax version and git commit, the command line, the working directory, `inputs` (from
// absolute_inputs), the hosts and ranks, `runtime` (placement, BLAS) and the Slurm keys. Local.
nlohmann::json provenance(const std::vector<std::string>& hosts, int ranks,
                          const nlohmann::json& runtime, const nlohmann::json& inputs);

// The Slurm job a run belongs to (the same keys for every command): job and array ids, nodes,
// tasks, partition, restart count. Empty outside Slurm.
nlohmann::json slurm_keys();

// A step against the hardware: every rank measures the FMA peak of its own threads at the same
// time (model/peak.hpp), so ranks that share cores share the peak too, and the sum over ranks is
// the job's; flops_per_step (the whole job's, e.g. the 4 n d m of the two GEMMs) over the median
// step is read against it. {"fma_peak_gflops", "fma_isa", "step_gflops", "fraction_of_fma_peak"}.
// Collective over `world`; about a tenth of a second.
nlohmann::json hardware_rate(const comm::Communicator& world, int threads, bool fp32,
                             double flops_per_step, double step_s);

// The timing keys of every summary: wall_s, train_s, comm_s (in the step's collectives),
// compute_s (train - comm), comm_fraction and step_time_median_s (the median of `step_times`, so a
// slow first step or a checkpoint write does not move it), and `rate_key` (work per step divided
// by the median step) when given.
nlohmann::json timings(double wall_s, double train_s, double comm_s,
                       const std::vector<double>& step_times, const char* rate_key = nullptr,
                       double work_per_step = 0);

// Refuses a non-finite loss at `step` (the divergence stop). The loss is reduced, so every rank
// sees the same value and throws alike.
void check_loss(double loss, std::int64_t step, const char* hint);

class Run {
 public:
  // Collective over `world`. `command` names the default directory (runs/<command>-...); `runtime`
  // (placement, BLAS) goes into config.json and summary.json. With write_outputs = false nothing
  // touches the disk (tests): no directory, no checkpoints.
  Run(const RunSpec& spec, const std::string& command, const comm::Communicator& world,
      nlohmann::json runtime, bool write_outputs, std::int64_t total_steps);
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  bool writes() const { return dir_ != nullptr; }
  // The run directory (empty without outputs).
  std::filesystem::path path() const { return dir_ ? dir_->path() : std::filesystem::path(); }
  const RunSpec& spec() const { return spec_; }
  const std::vector<std::string>& hosts() const { return hosts_; }
  Progress& progress() { return progress_; }

  // config.json: the resolved plan of the command, with "provenance" (widemax version, git
  // commit, command line, working directory, the absolute paths of `inputs`, hosts, runtime,
  // Slurm keys) added.
  void write_config(nlohmann::json plan,
                    const nlohmann::json& inputs = nlohmann::json::object()) const;
  // Any other JSON file of the run directory (rank 0, atomically).
  void write_json(const std::string& name, const nlohmann::json& j) const;
  void append_metrics(const nlohmann::json& j);
  // Adds the keys every summary has (ranks, hosts, runtime, slurm, and checkpoint_write_max_s
  // when the run wrote a checkpoint), writes summary.json and returns the completed summary.
  nlohmann::json finish(nlohmann::json summary);

  // --resume: the checkpoint to continue from, or nullopt (no --resume, or auto with no
  // checkpoint yet: a fresh start, logged). An explicit directory without one is an Error.
  std::optional<std::filesystem::path> resume_point() const;
  // Compares the plan a checkpoint was written with (its manifest's "config") with this run's:
  // keys outside `may_change` and the run layer's own (steps, log_every, the RunSpec's, threads)
  // must be equal, or the resume is refused naming each differing key
  // (the network, the data and its seed, the precision, the optimiser, the batch ...); differing
  // keys inside it are applied by the command and recorded, with the step, in config.json
  // ("resumed") and on the next metrics line ("changed_at_resume"). Local (every rank reads the
  // same manifest and plan, and refuses alike).
  void check_resume(const nlohmann::json& manifest, const std::filesystem::path& ckpt,
                    const nlohmann::json& plan, const std::vector<std::string>& may_change);
  // After a command restored its state from `ckpt` at step s0: refuses a --steps below s0, logs
  // the resume, continues the checkpoint's run id and keeps the metrics lines of steps < s0,
  // appending after them.
  void resumed(const std::filesystem::path& ckpt, const nlohmann::json& manifest, std::int64_t s0);

  // Once per step on every rank, after the step's gradient is known and before the update: one
  // MAX all-reduce of {preemption signal, non-finite gradient here}. Throws the divergence Error
  // (with `hint`) when any rank's gradient is not finite; returns the signal (0: none), which may
  // have reached only some ranks.
  int agree(std::int64_t step, bool gradient_finite, const char* hint);
  // Whether --checkpoint-every asks for a checkpoint at `step` of a run (re)started at `first`.
  bool checkpoint_due(std::int64_t step, std::int64_t first) const;
  // Writes the state at `step`; `manifest` holds the command's fields. Collective.
  template <class T>
  void checkpoint(std::int64_t step, const std::vector<Tensor<const T>>& tensors,
                  const nlohmann::json& manifest);
  // After the preemption checkpoint: ends the progress line, says how to continue, and writes
  // preempted.json (step, signal, checkpoint, its write time, the Slurm job and restart count):
  // the record a job script reads when its launcher's own exit status cannot say that the
  // checkpoint is complete (mpirun signalled by Slurm exits 1 whatever its ranks did).
  void preempted(int signal, std::int64_t step);

 private:
  RunSpec spec_;
  const comm::Communicator& world_;
  std::int64_t total_steps_;
  std::string run_id_;              // random per run, kept across resumes; checkpoints carry it
  nlohmann::json resume_record_;    // what check_resume/resumed saw, for config.json
  nlohmann::json pending_changes_;  // for the first metrics line after a resume
  nlohmann::json runtime_;
  std::vector<std::string> hosts_;
  std::unique_ptr<RunDir> dir_;
  Progress progress_;
  std::filesystem::path last_checkpoint_;
  double last_checkpoint_s_ = 0;  // wall time of the newest checkpoint's write, all ranks
  double max_checkpoint_s_ = 0;
};

}  // namespace widemax::run
