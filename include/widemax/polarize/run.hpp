// `widemax polarize`: gradient descent on the value-softmax model (docs/design.md §1.2) with the
// softmax length sharded over the ranks, logging the entropy of softmax(a) along the trajectory.
// This header holds the resolved options (the CLI in cli/polarize_cli.cpp fills them) and the run:
// the loop, metrics.jsonl, summary.json, V.npy/a.npy/beta.npy in a run directory like `widemax
// train`'s, with checkpoints, --resume (on any rank count) and preemption from the run layer.
// Full-batch plain GD only (the paper's setting); no mini-batches, float64 only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "widemax/comm/communicator.hpp"
#include "widemax/polarize/kernels.hpp"
#include "widemax/polarize/model.hpp"
#include "widemax/run/spec.hpp"

namespace widemax::polarize {

// --lr-schedule: constant, or inverse-max-prob: lr_t = lr / max_prob_t. A global step size that
// varies with t follows the same gradient-flow path on another clock (flow time sum_t lr_t) while
// lr_t x curvature stays small; the curvature of the loss in V and a is at most of order
// max_prob, so this keeps lr_t x curvature <= lr x O(1) and takes ~T times larger steps while
// alpha is spread over T tokens (the T sweep reaches T = 1e6 with it).
enum class LrSchedule { kConstant, kInverseMaxProb };
LrSchedule parse_lr_schedule(const std::string& s);  // errors name --lr-schedule
std::string to_string(LrSchedule s);

struct Config {
  Loss loss = Loss::kLogistic;
  std::int64_t T = 8;    // softmax length
  int d = 8;             // value dimension
  bool d_given = false;  // --d was set explicitly (checked against a --beta file)
  std::string beta;      // a .npy file; empty: random (unit-norm Gaussian from beta_seed)
  std::uint64_t beta_seed = 1;
  double beta_norm = 1.0;                  // ||beta|| of a random beta
  CeTarget ce_target = CeTarget::kArgmax;  // cross-entropy p*
  double v_scale = 0.1;                    // V ~ v_scale N(0, 1)
  double a_mean = 0.0;                     // a ~ a_mean + a_noise N(0, 1)
  double a_noise = 0.0;
  std::uint64_t seed = 0;
  std::string init_from;  // directory with V.npy (T, d) and a.npy (T, 1)
  double lr = 0.1;
  bool lr_given = false;  // --lr was given (on resume: else the checkpoint's rate is kept)
  LrSchedule lr_schedule = LrSchedule::kConstant;
  std::int64_t steps = 10000;
  std::int64_t log_every = 0;        // every K steps (0: only the log-spaced ones, first and last)
  std::int64_t log_per_decade = 20;  // and about N log-spaced steps per decade (0: none)
  int threads = 0;
  // out (empty: runs/polarize-<time>), save (V.npy, a.npy at the end, with --save) and progress.
  run::RunSpec run;
};

// Checks values that depend on neither the ranks nor the files. Throws an Error naming the option.
void validate(const Config& c);
nlohmann::json to_json(const Config& c);

// The step size of step t (see lr_schedule).
double step_lr(const Config& c, double max_prob);

// Whether `step` is logged: step 0, the multiples of log_every (when > 0) and the first step of
// every 1/per_decade of a decade (when per_decade > 0). The final step is logged by the loop.
bool logged_step(std::int64_t step, std::int64_t log_every, std::int64_t per_decade);

// The resolved plan of a run, what config.json records and the loop reads: the request (with d
// from a --beta file), beta itself, the cross-entropy target p*, the ranks and the threads.
struct Plan {
  Config request;
  std::vector<double> beta;
  std::vector<double> p_star;  // cross-entropy only
  int ranks = 1;
  int threads = 1;
};
nlohmann::json to_json(const Plan& p);

struct Result {
  nlohmann::json summary;
  std::vector<double> entropy;    // every step 0..steps (steps + 1 values)
  std::vector<double> max_prob;   // every step 0..steps
  std::vector<double> loss;       // every step 0..steps
  std::vector<double> flow_time;  // sum of the step sizes before each step 0..steps
  std::string run_dir;            // empty when nothing was written
  bool preempted = false;         // stopped by SIGUSR1/SIGTERM after writing a checkpoint
};

// Collective over `world`. With write_outputs = false nothing touches the disk (tests).
Result run_polarize(const Config& c, const comm::Communicator& world, int threads,
                    const nlohmann::json& runtime, bool write_outputs);

}  // namespace widemax::polarize
