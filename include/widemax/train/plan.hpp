// The resolved plan of a training run: the request (train::Config, as parsed) with every choice
// that depends on the data, the ranks or the machine made once, before the loop: the data's shape,
// the learning rate and where it came from, the block, the logit cache, the grid and the threads.
// config.json is its JSON, and the loop reads its settings from it; nothing changes it afterwards.
// Not here: making the choices (load_data, resolve_execution, the learning-rate rules in loop.cpp,
// resolve_grid); this is their record.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "widemax/train/config.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

struct Plan {
  Config request;  // with data.n, data.d and net.d_out of the data as loaded
  Execution execution;
  std::string grid;  // "PdxPw"
  int threads = 1;
  double lr = 0;
  std::string lr_source;
  std::string sigma_source, init_source;  // resolve_data_defaults: the option or the data's rule
};

// config.json: the request's keys (sigma and init as resolved), then lr, lr_source, sigma_source,
// init_source and the resolved execution
// (block_resolved, logit_cache_resolved, grid_resolved, threads_resolved).
nlohmann::json to_json(const Plan& p);

}  // namespace widemax::train
