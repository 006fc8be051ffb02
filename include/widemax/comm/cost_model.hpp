// The performance model of a step (docs/design.md §2.3), behind --grid auto and `widemax bench
// --predict`. A step on a Pd x Pw grid costs
//   compute:      seconds_per_pair * ceil(n / Pd) * ceil(m / Pw) / cores_per_rank, where
//                 seconds_per_pair (one core) comes from measured GEMM and exp rates
//                 (train/perf_model.hpp);
//   row all-reduce of ceil(n / Pd) (d_out + 2) numbers over Pw ranks;
//   column all-reduce of ceil(m / Pw) (d [+ d_out]) + 1 numbers over Pd ranks;
// with an all-reduce of B bytes over p ranks modelled as 2 ceil(log2 p) alpha + 2 (p-1)/p B / beta
// (zero when p = 1): the cost of recursive doubling / Rabenseifner on p ranks. The gradient
// all-reduces overlap the backward pass (trainer.hpp) but get no credit for it here: without an MPI
// progress thread they advance only between chunks. Pure functions; measuring alpha and beta is in
// measure_network().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "widemax/comm/communicator.hpp"

namespace widemax::comm {

struct Network {
  double latency_s = 2e-6;         // alpha
  double bandwidth_Bps = 5e9;      // beta
  std::string source = "default";  // "measured", "--net-latency/--net-bandwidth" or "default"
};

struct StepShape {
  std::int64_t n = 0;  // samples per step (the global batch)
  std::int64_t m = 0;
  std::int64_t d = 0;
  std::int64_t d_out = 1;
  bool train_a = false;
  std::size_t elem_bytes = 8;
  double seconds_per_pair = 1e-9;  // compute per (sample, neuron) on one core
  double cores_per_rank = 1;       // threads per rank, less when the node is oversubscribed
};

struct GridCost {
  int p_data = 1, p_width = 1;
  double compute_s = 0, row_s = 0, column_s = 0;
  double total() const { return compute_s + row_s + column_s; }
};

double allreduce_seconds(const Network& net, int ranks, double bytes);
GridCost grid_cost(const StepShape& s, const Network& net, int p_data, int p_width);
// Every factorisation Pd x Pw = ranks that gives each rank at least one sample and one neuron,
// cheapest first (ties: the larger Pw first, which keeps samples together).
std::vector<GridCost> rank_grids(const StepShape& s, const Network& net, int ranks);

// Measures alpha (8-byte all-reduce) and beta (1 MiB all-reduce) on `comm`, medians of a few
// repetitions. Collective. On one rank there is nothing to measure: the default is returned.
Network measure_network(const Communicator& comm);

}  // namespace widemax::comm
