// The grid cost model and the network measurement. See cost_model.hpp.
#include "widemax/comm/cost_model.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>

namespace widemax::comm {

double allreduce_seconds(const Network& net, int ranks, double bytes) {
  if (ranks <= 1) return 0;
  const double steps = std::ceil(std::log2(static_cast<double>(ranks)));
  return 2 * steps * net.latency_s + 2.0 * (ranks - 1) / ranks * bytes / net.bandwidth_Bps;
}

GridCost grid_cost(const StepShape& s, const Network& net, int p_data, int p_width) {
  GridCost c;
  c.p_data = p_data;
  c.p_width = p_width;
  const double n_loc = std::ceil(static_cast<double>(s.n) / p_data);
  const double m_loc = std::ceil(static_cast<double>(s.m) / p_width);
  c.compute_s = s.seconds_per_pair * n_loc * m_loc / s.cores_per_rank;
  c.row_s = allreduce_seconds(net, p_width, n_loc * (s.d_out + 2) * s.elem_bytes);
  const double col_numbers = m_loc * (s.d + (s.train_a ? s.d_out : 0)) + 1;
  c.column_s = allreduce_seconds(net, p_data, col_numbers * s.elem_bytes);
  return c;
}

std::vector<GridCost> rank_grids(const StepShape& s, const Network& net, int ranks) {
  std::vector<GridCost> out;
  for (int pd = 1; pd <= ranks; ++pd) {
    if (ranks % pd) continue;
    const int pw = ranks / pd;
    if (pd > s.n || pw > s.m) continue;
    out.push_back(grid_cost(s, net, pd, pw));
  }
  std::stable_sort(out.begin(), out.end(), [](const GridCost& a, const GridCost& b) {
    if (a.total() != b.total()) return a.total() < b.total();
    return a.p_width > b.p_width;
  });
  return out;
}

namespace {
double median_allreduce(const Communicator& comm, std::vector<char>& buf, int reps) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    comm.barrier();
    const double t0 = MPI_Wtime();
    MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(buf.size()), MPI_BYTE, MPI_BOR,
                  comm.raw());
    t.push_back(MPI_Wtime() - t0);
  }
  // Every rank must agree on the figure, so take the slowest rank's median.
  std::sort(t.begin(), t.end());
  return comm.allreduce_max(t[t.size() / 2]);
}
}  // namespace

Network measure_network(const Communicator& comm) {
  Network net;
  if (comm.size() == 1) return net;
  std::vector<char> small(8), large(std::size_t{1} << 20);
  median_allreduce(comm, small, 3);  // warm-up: first calls set up connections
  const double t_small = median_allreduce(comm, small, 15);
  const double t_large = median_allreduce(comm, large, 5);
  const double steps = std::ceil(std::log2(static_cast<double>(comm.size())));
  net.latency_s = std::max(t_small / (2 * steps), 1e-8);
  const double transfer = std::max(t_large - 2 * steps * net.latency_s, 1e-9);
  net.bandwidth_Bps =
      2.0 * (comm.size() - 1) / comm.size() * static_cast<double>(large.size()) / transfer;
  net.source = "measured";
  return net;
}

}  // namespace widemax::comm
