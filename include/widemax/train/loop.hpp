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
