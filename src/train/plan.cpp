// The resolved plan as config.json records it. See plan.hpp.
#include "widemax/train/plan.hpp"

namespace widemax::train {

nlohmann::json to_json(const Plan& p) {
  nlohmann::json j = to_json(p.request);
  j["lr"] = p.lr;
  j["lr_source"] = p.lr_source;
  j["sigma_source"] = p.sigma_source;
  j["init_source"] = p.init_source;
  j["block_resolved"] = p.execution.block;
  j["logit_cache_resolved"] = p.execution.logit_cache ? "on" : "off";
  j["grid_resolved"] = p.grid;
  j["threads_resolved"] = p.threads;
  return j;
}

}  // namespace widemax::train
