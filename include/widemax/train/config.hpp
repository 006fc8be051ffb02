// The resolved configuration of a training run: every option of `widemax train` with its default.
// Parsing from the command line and INI files lives in cli/; this header only holds the values,
// checks them (validate) and turns them into JSON for the run directory.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "widemax/comm/cost_model.hpp"
#include "widemax/run/spec.hpp"
#include "widemax/train/optimizer.hpp"

namespace widemax::train {

struct Config {
  // Model (DESIGN 1.1)
  std::string activation = "softmax";  // softmax | exp | relu
  std::string scale = "m";             // m | sqrt-m: c_m of softmax
  bool scale_given = false;            // --scale was set explicitly (refused for exp/relu)
  std::string init = "gaussian";       // gaussian | symmetric
  double sigma = 1.0;
  std::int64_t width = 4096;  // m
  std::int64_t d_out = 1;
  bool d_out_given = false;
  bool train_a = false;
  std::string init_from;  // directory with W.npy and A.npy

  // Optimisation
  double lr = 0;         // 0: the default heuristic of default_lr()
  bool lr_auto = false;  // --lr auto: lr_auto_c / lambda_max(H_0)
  double lr_auto_c = 1.0;
  std::int64_t ntk_every = 0;    // NTK diagnostics every K steps (0: off)
  std::int64_t ntk_samples = 0;  // 0: all training samples when n d_out <= 1024, else 1024 / d_out
  std::int64_t steps = 100;
  std::string precision = "fp64";  // fp64 | fp32
  std::uint64_t seed = 0;
  std::int64_t log_every = 10;  // 0: first and last step only
  std::int64_t batch = 0;       // global mini-batch; 0: full batch
  OptimizerSpec optimizer;
  ScheduleSpec schedule;

  // Data
  std::string data = "synthetic";  // "synthetic" or a CSV path
  std::int64_t n = 256;
  std::int64_t d = 16;
  std::string labels = "teacher";  // synthetic targets: teacher | random
  std::uint64_t data_seed = 1;
  std::vector<std::string> target;  // CSV target columns
  bool standardize = false;
  bool standardize_target = false;
  double test_fraction = 0;  // held out by a hash of (data seed, sample id): grid-independent
  std::string test_data;     // a separate CSV with the same columns
  std::int64_t classes = 0;  // > 0: the target is a class label in [0, classes), one-hot encoded

  // Execution
  std::string grid = "1xP";  // PdxPw, "1xP" (every rank on the width) or "auto"
  comm::Network network;     // for --grid auto: --net-latency / --net-bandwidth, else measured
  bool network_given = false;
  int threads = 0;         // OpenMP threads per rank; 0: OMP_NUM_THREADS or cores / local ranks
  std::int64_t block = 0;  // neurons per block; 0: automatic
  // Keep pass 1's exponentials for pass 2 (n x m_loc numbers): on | off | auto (on when it takes
  // at most a quarter of the memory available to the rank).
  std::string logit_cache = "auto";
  std::string out;  // run directory; empty: runs/train-<time>
  bool save = false;
  std::int64_t checkpoint_every = 0;  // checkpoint every K steps and at the end (0: never)
  int keep_checkpoints = 2;           // the newest N complete checkpoints are kept
  std::string resume;                 // "", "auto" (newest in --out, if any) or a directory
  bool progress = true;               // rank 0 progress output
  std::string config_file;

  bool is_csv() const { return data != "synthetic"; }
};

// Checks values that do not depend on the data or the ranks (unknown names, ranges).
// Throws an Error naming the option.
void validate(const Config& c);

// Parses "PdxPw" (or "1xP"/"Px1" with P the world size). Throws an Error naming --grid.
std::pair<int, int> parse_grid(const std::string& text, int world_size);

nlohmann::json to_json(const Config& c);

// The run-directory fields of the configuration, for the run layer.
run::RunSpec run_spec(const Config& c);

}  // namespace widemax::train
