// The request of a training run, typed: every option of `widemax train` with its default, parsed
// once by cli/ (command line and INI files) into enums and numbers. It is split by consumer:
//   NetSpec  - the network and how it is optimised and executed (trainer, diffusion, bench);
//   DataSpec - where the samples come from (load_data);
//   Config   - the two, the training loop's own counts and the run directory request.
// This header holds the values, checks them (validate) and writes them as JSON for the run
// directory, with the same names the options take. Resolving the request against the data and the
// ranks (the learning rate, the block, the grid, the cache) is left to the consumers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "widemax/comm/cost_model.hpp"
#include "widemax/data/dataset.hpp"
#include "widemax/model/model.hpp"
#include "widemax/run/spec.hpp"
#include "widemax/train/optimizer.hpp"

namespace widemax::train {

enum class Precision { kFp64, kFp32 };
Precision parse_precision(const std::string& s);  // errors name --precision
std::string to_string(Precision p);
inline int element_bytes(Precision p) {
  return p == Precision::kFp32 ? 4 : 8;
}

// Keep pass 1's exponentials for pass 2 (n x m_loc numbers): on, off, or auto (on when it takes
// at most a quarter of the memory available to the rank).
enum class LogitCacheMode { kAuto, kOn, kOff };
LogitCacheMode parse_logit_cache(const std::string& s);  // errors name --logit-cache
std::string to_string(LogitCacheMode m);

// --lr: not given (the default heuristic of default_lr()), a value, or auto: c / lambda_max(H_0).
struct LrRequest {
  double value = 0;        // > 0: --lr VALUE; 0: not given
  bool automatic = false;  // --lr auto
  double auto_c = 1.0;     // --lr-auto-c
  bool given() const { return value > 0; }
};

// --grid: "auto" (the cost model of resolve_grid) or the text PdxPw, read by parse_grid once the
// world size is known.
struct GridRequest {
  bool automatic = false;
  std::string text = "1xP";  // when not automatic
  comm::Network network;     // for auto: --net-latency / --net-bandwidth, else measured
  bool network_given = false;
};
GridRequest parse_grid_request(const std::string& text);
std::string to_string(const GridRequest& g);

// The network (docs/design.md §1.1), its optimiser and its execution on the ranks.
struct NetSpec {
  model::Activation activation = model::Activation::kSoftmax;
  model::Scale scale = model::Scale::kM;  // c_m of softmax
  bool scale_given = false;               // --scale was set explicitly (refused for exp/relu)
  model::InitKind init = model::InitKind::kGaussian;
  double sigma = 1.0;
  // --init and --sigma were not given (cli/ sets these): resolve_data_defaults() chooses them from
  // the data. A programmatic spec leaves them false and its init and sigma are used as they are.
  bool init_default = false;
  bool sigma_default = false;
  std::int64_t width = 4096;  // m
  std::int64_t d_out = 1;     // for CSV data: checked against the target columns when given
  bool d_out_given = false;
  bool train_a = false;
  std::string init_from;  // directory with W.npy and A.npy
  std::uint64_t seed = 0;
  model::SeedScope seed_scope = model::SeedScope::kWidth;  // W_0 drawn per width, or nested
  Precision precision = Precision::kFp64;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  LrRequest lr;
  int threads = 0;         // OpenMP threads per rank; 0: OMP_NUM_THREADS or cores / local ranks
  std::int64_t block = 0;  // neurons per block; 0: automatic
  LogitCacheMode logit_cache = LogitCacheMode::kAuto;
  GridRequest grid;
};

// The samples: synthetic (the paper's setting) or a CSV file.
struct DataSpec {
  std::string csv;  // empty: synthetic
  std::int64_t n = 256;
  std::int64_t d = 16;
  data::Labels labels = data::Labels::kTeacher;  // synthetic targets
  std::uint64_t data_seed = 1;
  std::vector<std::string> target;  // CSV target columns
  bool standardize = false;
  bool standardize_target = false;
  double test_fraction = 0;  // held out by a hash of (data seed, sample id): grid-independent
  std::string test_data;     // a separate CSV with the same columns
  // Synthetic: rows n .. n + n_test - 1 of the generator, held out (the n training rows unchanged)
  std::int64_t n_test = 0;
  std::int64_t classes = 0;  // > 0: the target is a class label in [0, classes), one-hot encoded
  bool is_csv() const { return !csv.empty(); }
  // What --data says: "synthetic" or the file.
  std::string source() const { return is_csv() ? csv : "synthetic"; }
};

struct Config {
  NetSpec net;
  DataSpec data;
  // The training loop
  std::int64_t steps = 100;
  std::int64_t log_every = 10;   // 0: first and last step only
  std::int64_t batch = 0;        // global mini-batch; 0: full batch
  std::int64_t ntk_every = 0;    // NTK diagnostics every K steps (0: off)
  std::int64_t ntk_samples = 0;  // 0: all training samples when n d_out <= 1024, else 1024 / d_out
  // widemax ntk --perturb R: H also at W_0 + Delta, ||Delta_r|| = R for every neuron (0: off)
  double perturb = 0;
  std::uint64_t perturb_seed = 0;  // cli/ sets it to --seed unless --perturb-seed is given
  run::RunSpec run;
  std::string config_file;
};

// Checks values that do not depend on the data or the ranks (ranges, combinations).
// Throws an Error naming the option.
void validate(const NetSpec& n);
void validate(const DataSpec& d);
void validate(const Config& c);

// Parses "PdxPw" (or "1xP"/"Px1" with P the world size). Throws an Error naming --grid.
std::pair<int, int> parse_grid(const std::string& text, int world_size);

// The files the request reads (--data, --test-data, --init-from, --config, --resume DIR), by
// option name and made absolute: config.json's provenance "inputs".
nlohmann::json input_paths(const Config& c);

// The keys of config.json, named as the options are.
nlohmann::json to_json(const NetSpec& n);
nlohmann::json to_json(const DataSpec& d);
nlohmann::json to_json(const Config& c);

}  // namespace widemax::train
