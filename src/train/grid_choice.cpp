// --grid auto: the cost model of comm/cost_model.hpp applied to this run's sizes. The choice is
// printed with the predicted split of a step, so a user can see why, and override it with --grid.
#include <cstdio>

#include "widemax/comm/cost_model.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/data/dataset.hpp"
#include "widemax/train/loop.hpp"

namespace widemax::train {

std::pair<int, int> resolve_grid(const Config& c, const comm::Communicator& world) {
  if (c.grid != "auto") return parse_grid(c.grid, world.size());
  comm::StepShape s;
  s.m = c.width;
  s.train_a = c.train_a;
  s.elem_bytes = c.precision == "fp32" ? 4 : 8;
  if (c.is_csv()) {
    s.n = data::count_csv_rows(c.data);
    const data::Dataset head = data::read_csv(c.data, c.target, 0, 0);
    s.d = head.d;
    s.d_out = c.classes > 0 ? c.classes : head.d_out;
  } else {
    s.n = c.n;
    s.d = c.d;
    s.d_out = c.d_out;
  }
  if (c.batch > 0 && c.batch < s.n) s.n = c.batch;
  const comm::Network net = c.network_given ? c.network : comm::measure_network(world);
  const auto ranked = comm::rank_grids(s, net, world.size());
  WIDEMAX_CHECK(!ranked.empty(), "--grid auto: no grid of ", world.size(),
                " ranks gives every rank a sample and a neuron (n = ", s.n, ", m = ", s.m, ")");
  const auto& best = ranked.front();
  char line[512];
  std::snprintf(line, sizeof line,
                "grid auto: %dx%d, predicted %.3g ms/step (compute %.3g, row all-reduce %.3g, "
                "column all-reduce %.3g) with latency %.3g us and bandwidth %.3g GB/s (%s)",
                best.p_data, best.p_width, best.total() * 1e3, best.compute_s * 1e3,
                best.row_s * 1e3, best.column_s * 1e3, net.latency_s * 1e6, net.bandwidth_Bps / 1e9,
                net.source.c_str());
  log::info(line);
  if (ranked.size() > 1) {
    const auto& next = ranked[1];
    std::snprintf(line, sizeof line, "  next best %dx%d at %.3g ms/step", next.p_data, next.p_width,
                  next.total() * 1e3);
    log::info(line);
  }
  return {best.p_data, best.p_width};
}

}  // namespace widemax::train
