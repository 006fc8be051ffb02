// The training loop of `widemax train`, top to bottom: load this rank's data, build the trainer,
// then per step compute the gradient, log, update; finally evaluate, save and summarise.
// Full-batch gradient descent.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "widemax/comm/grid.hpp"
#include "widemax/train/config.hpp"

namespace widemax::train {

struct RunResult {
  // Loss of each step's samples (the batch) before its update, then the final loss over all
  // training samples: steps + 1 values.
  std::vector<double> losses;
  double initial_loss = 0;      // over all training samples at step 0
  bool preempted = false;       // stopped by SIGUSR1/SIGTERM after writing a checkpoint
  std::int64_t first_step = 0;  // > 0 when resumed from a checkpoint
  double lr = 0;
  nlohmann::json summary;
  std::string run_dir;  // empty when outputs were not written
};

// Collective over the grid. `threads` is the resolved OpenMP thread count per rank; `runtime`
// (binding, BLAS) is recorded in summary.json. With write_outputs = false nothing touches the disk
// (used by tests).
RunResult run_training(const Config& c, const comm::Grid& grid, int threads,
                       const nlohmann::json& runtime, bool write_outputs);

}  // namespace widemax::train

namespace widemax::train {

// Resolves --grid to (P_data, P_width) for the ranks of `world`: "PdxPw", "1xP", "Px1", or "auto",
// which ranks every factorisation with the cost model of comm/cost_model.hpp (network figures from
// --net-latency/--net-bandwidth, else measured now) and prints the choice with its reason.
// `batch` is the global mini-batch (0: full batch). Collective over `world` (the measurement).
std::pair<int, int> resolve_grid(const NetSpec& net, const DataSpec& data, std::int64_t batch,
                                 const comm::Communicator& world, int threads);

// The NTK samples: all training samples when --ntk-samples is 0 and n d_out <= 1024, else a subset
// of --ntk-samples (default 1024 / d_out) chosen by a permutation keyed by the data seed: the same
// on every grid. Sorted global ids. Throws an Error when --ntk-samples exceeds the training set.
std::vector<std::int64_t> ntk_sample_ids(std::int64_t ntk_samples, std::uint64_t data_seed,
                                         const std::vector<std::int64_t>& train_ids,
                                         std::int64_t d_out);

}  // namespace widemax::train

namespace widemax::train {

// `widemax ntk`: the empirical NTK at initialisation (or --init-from weights), without training.
// Writes H.npy (N, N) with N = n_k d_out and index i * d_out + k, eigenvalues.npy and
// spectrum.csv (ascending), ntk_samples.csv (the global row ids used), config.json and
// summary.json (lambda_min, lambda_max, trace, condition number). Collective over the grid.
nlohmann::json run_ntk(const Config& c, const comm::Grid& grid, int threads,
                       const nlohmann::json& runtime);

}  // namespace widemax::train
