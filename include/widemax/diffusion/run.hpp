// `widemax diffusion` from top to bottom: the wide softmax network of docs/design.md §1.1 (d_out =
// d, input [x_t, phi(t)]) trained as a score model by denoising score matching (dsm.hpp) with the
// sharded trainer of train/, fresh (x_0, t, eps) rows every step; the relative score error against
// the closed-form score of the mixture on held-out (x_t, t), logged during training, overall and
// per time bucket; then reverse-time sampling with the network (and with the exact score as the
// reference), the sliced Wasserstein distance to fresh mixture samples and the recovered weights.
// With --parametrisation x0 (the paper's setting, dsm.hpp) the rows are instead a fixed set of N
// training triples drawn once, trained on by full-batch gradient descent with early stopping on a
// fixed held-out set of triples (Trainer's test rows).
// Checkpoints, --resume (on any rank count) and preemption come from the run layer (run/run.hpp).
// Not here: activations other than softmax.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "widemax/comm/grid.hpp"
#include "widemax/diffusion/dsm.hpp"
#include "widemax/diffusion/sampler.hpp"
#include "widemax/run/spec.hpp"
#include "widemax/train/config.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::diffusion {

// The model and optimiser defaults of `widemax diffusion`, where they differ from `widemax
// train`'s: c_m = sqrt(m), symmetric init (F(W_0) = 0, so the initial score error is exactly 1),
// Adam with a cosine schedule.
train::NetSpec default_net();

// The baseline s_b of dsm.hpp: the score of the data's Gaussian fit, or none.
enum class Baseline { kGaussian, kNone };
Baseline parse_baseline(const std::string& s);  // errors name --baseline
std::string to_string(Baseline b);

struct Config {
  // Model, optimiser and execution, as for `widemax train`. The output dimension is the data's d
  // (set by the run); the inputs are [x_t, phi(t)].
  train::NetSpec net = default_net();
  run::RunSpec run;  // out, save and progress; no checkpoints yet
  std::int64_t steps = 3000;
  std::int64_t log_every = 100;

  // Data
  std::string mixture;    // preset or JSON file; "" with --data: no closed-form reference
  std::string data;       // CSV of points x_0 (every column a coordinate)
  std::int64_t n = 1024;  // DSM rows per step
  std::uint64_t data_seed = 1;
  double t_min = 1e-3;
  double t_max = 5.0;
  TimeSampling time_sampling = TimeSampling::kLog;
  std::string time_features = "one,t,log-sigma,fourier:2";
  Baseline baseline = Baseline::kGaussian;
  Parametrisation parametrisation = Parametrisation::kEps;
  // x0 only: the fixed training set, the held-out set of the early stopping (0: N / 4) and the
  // evaluations (every log_every steps) without a new best held-out loss before training stops
  // (0: never).
  std::int64_t train_samples = 4096;
  std::int64_t holdout_samples = 0;
  std::int64_t patience = 10;

  // Evaluation
  std::int64_t eval_n = 4096;
  int time_buckets = 8;

  // Sampling
  SamplerKind sampler = SamplerKind::kSde;
  std::int64_t sample_steps = 500;
  std::int64_t samples = 4096;
  std::uint64_t sample_seed = 0;
  int sw_directions = 256;
  bool exact_reference = true;  // also sample with the exact score (needs a mixture)
};

// What --parametrisation x0 sets in a configuration (the CLI calls it before applying the options
// given, and refuses the ones that contradict it): c_m = m, gradient descent at a constant rate,
// no baseline, the time input raw t.
void apply_x0_defaults(Config& c);
// The held-out triples of the early stopping: --holdout-samples, or N / 4 (at least 1).
std::int64_t holdout_count(const Config& c);

// The mixture that a run uses: --mixture, or ring8 when neither --mixture nor --data is given.
std::string mixture_spec(const Config& c);

// Checks values that do not depend on files (ranges). Throws an Error naming the option.
void validate(const Config& c);
nlohmann::json to_json(const Config& c);

// The resolved plan of a run, what config.json records and the loop reads: the request with the
// output dimension of the data, the mixture it uses (ring8 when neither --mixture nor --data is
// given), the network's input dimension (x_t and the time features), the learning rate, the
// execution choices, the grid and the threads.
struct Plan {
  Config request;
  std::string mixture;
  std::int64_t input_dim = 0;
  double input_scale = 1;  // x0: the factor of every input, applied at training and sampling
  double lr = 0;
  train::Execution execution;
  std::string grid;
  int threads = 1;
};
nlohmann::json to_json(const Plan& p);

struct Result {
  nlohmann::json summary;
  std::vector<double> losses;         // the training loss (sum over the step's rows) per step
  std::vector<double> samples;        // (samples, d), every rank
  std::vector<double> exact_samples;  // (samples, d) with the exact score, when a mixture is known
  std::string run_dir;                // empty when outputs were not written
  bool preempted = false;             // stopped by SIGUSR1/SIGTERM after writing a checkpoint
};

// Collective over the grid. `threads` is the resolved OpenMP thread count; `runtime` goes into
// summary.json. With write_outputs = false nothing touches the disk (tests).
Result run_diffusion(const Config& c, const comm::Grid& grid, int threads,
                     const nlohmann::json& runtime, bool write_outputs);

}  // namespace widemax::diffusion
