// --grid auto: the performance model (compute from kernel rates measured here, train/perf_model;
// all-reduces by alpha-beta, comm/cost_model) applied to this run's sizes. The choice is printed
// with the predicted split of a step, so a user can see why, and override it with --grid.
#include "widemax/train/grid_choice.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "widemax/comm/cost_model.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/data/dataset.hpp"
#include "widemax/train/perf_model.hpp"

namespace widemax::train {

std::pair<int, int> resolve_grid(const NetSpec& c, const DataSpec& data, std::int64_t batch,
                                 const comm::Communicator& world, int threads) {
  if (!c.grid.automatic) return parse_grid(c.grid.text, world.size());
  comm::StepShape s;
  s.m = c.width;
  s.train_a = c.train_a;
  s.elem_bytes = element_bytes(c.precision);
  if (data.is_csv()) {
    s.n = data::count_csv_rows(data.csv);
    const data::Dataset head = data::read_csv(data.csv, data.target, 0, 0);
    s.d = head.d;
    s.d_out = data.classes > 0 ? data.classes : head.d_out;
  } else {
    s.n = data.n;
    s.d = data.d;
    s.d_out = c.d_out;
  }
  if (batch > 0 && batch < s.n) s.n = batch;
  const comm::Network net = c.grid.network_given ? c.grid.network : comm::measure_network(world);
  // Compute per (sample, neuron) on one core, from rates measured at this run's d and d_out on a
  // few blocks; the logit cache as it will most likely be (auto is on unless memory is short).
  const bool cache = c.logit_cache != LogitCacheMode::kOff;
  const std::int64_t n_cal = std::min<std::int64_t>(s.n, 512);
  const std::int64_t m_cal = std::min<std::int64_t>(s.m, 4096);
  const KernelRates rates =
      measure_kernel_rates_on_root(world, n_cal, s.d, s.d_out, m_cal, c.precision, cache, 2);
  s.seconds_per_pair = seconds_per_pair(rates, s.d, cache);
  const int local = world.ranks_on_node();
  const int cpus = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  s.cores_per_rank = threads * std::min(1.0, double(cpus) / (double(local) * threads));
  const auto ranked = comm::rank_grids(s, net, world.size());
  WIDEMAX_CHECK(!ranked.empty(), "--grid auto: no grid of ", world.size(),
                " ranks gives every rank a sample and a neuron (n = ", s.n, ", m = ", s.m, ")");
  const auto& best = ranked.front();
  char line[1024];
  std::snprintf(line, sizeof line,
                "grid auto: %dx%d, predicted %.3g ms/step (compute %.3g, row all-reduce %.3g, "
                "column all-reduce %.3g) with latency %.3g us and bandwidth %.3g GB/s (%s), "
                "%.3g ns per sample-neuron per core (measured rates), %.3g cores per rank",
                best.p_data, best.p_width, best.total() * 1e3, best.compute_s * 1e3,
                best.row_s * 1e3, best.column_s * 1e3, net.latency_s * 1e6, net.bandwidth_Bps / 1e9,
                net.source.c_str(), s.seconds_per_pair * 1e9, s.cores_per_rank);
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
