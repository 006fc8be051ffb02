// Training on P ranks follows the same trajectory as on one rank (docs/design.md §2.4): 50
// full-batch steps with a width not divisible by 3 end at the same loss to 1e-10 relative in fp64.
// The one-rank run is computed on MPI_COMM_SELF inside the same test, so every rank count is
// compared with 1. Also: the convergence the theory predicts, a wide network driving the training
// loss down 100x.
#include <gtest/gtest.h>

#include <cmath>

#include "mpi_util.hpp"
#include "widemax/train/loop.hpp"

using namespace widemax;
using testing_mpi::world_rank;
using testing_mpi::world_size;

namespace {

train::RunResult run_on(const train::Config& c, MPI_Comm comm, int pd, int pw) {
  comm::Grid grid(comm, pd, pw);
  return train::run_training(c, grid, 1, {}, /*write_outputs=*/false);
}

struct TrajectoryCase {
  const char* activation;
  const char* scale;
  bool train_a;
};

}  // namespace

TEST(Trajectory, FiftyStepsAgreeWithOneRank) {
  for (const TrajectoryCase tc :
       {TrajectoryCase{"softmax", "m", false}, TrajectoryCase{"softmax", "sqrt-m", true},
        TrajectoryCase{"exp", "m", false}, TrajectoryCase{"relu", "m", true}}) {
    train::Config c;
    c.net.activation = model::parse_activation(tc.activation);
    c.net.scale = model::parse_scale(tc.scale);
    c.net.train_a = tc.train_a;
    c.net.width = 1000;  // 1000 = 3 * 333 + 1: uneven on 3 ranks
    c.data.n = 40;
    c.data.d = 6;
    c.net.d_out = 2;
    c.steps = 50;
    c.net.block = 64;
    const auto parallel = run_on(c, MPI_COMM_WORLD, 1, world_size());
    const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
    ASSERT_EQ(parallel.losses.size(), 51u);
    const double lp = parallel.losses.back(), ls = serial.losses.back();
    EXPECT_NEAR(lp, ls, 1e-10 * ls) << tc.activation << " " << tc.scale;
    // The run really trained: otherwise agreeing would prove little.
    EXPECT_LT(ls, 0.9 * serial.losses.front()) << tc.activation << " " << tc.scale;
  }
}

TEST(Trajectory, Fp32AgreesLoosely) {
  train::Config c;
  c.net.width = 999;
  c.data.n = 30;
  c.data.d = 4;
  c.steps = 20;
  c.net.precision = train::Precision::kFp32;
  const auto parallel = run_on(c, MPI_COMM_WORLD, 1, world_size());
  const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
  EXPECT_NEAR(parallel.losses.back(), serial.losses.back(), 1e-4 * serial.losses.back());
}

// NTK theory: with enough neurons, gradient descent drives the training loss to zero at a linear
// rate. n = 32 samples, width 4096, the default (stable) learning rate, both scalings of c_m:
// at least 100x in 300 steps, decreasing at every step.
TEST(Convergence, WideNetworkFitsSmallProblem) {
  for (const char* scale : {"m", "sqrt-m"}) {
    train::Config c;
    c.net.scale = model::parse_scale(scale);
    c.net.width = 4096;
    c.data.n = 32;
    c.data.d = 16;
    c.steps = 300;
    const auto r = run_on(c, MPI_COMM_WORLD, 1, world_size());
    const double reduction = r.losses.front() / r.losses.back();
    EXPECT_GE(reduction, 100.0) << scale << ": initial " << r.losses.front() << " final "
                                << r.losses.back();
    for (std::size_t s = 1; s < r.losses.size(); ++s)
      ASSERT_LE(r.losses[s], r.losses[s - 1] * (1 + 1e-12)) << scale << " step " << s;
  }
}

// The quantiles of the per-neuron displacement ||w_r(t) - w_r(0)|| (from histogram counts summed
// over the neurons' shards) are the same on every rank count and grid as on one rank: they are a
// function of the counts, and a neuron's norm agrees to round-off, far inside a 0.54% bin (a norm
// within 1e-12 of a bin edge would be needed to move a count). Ordered, and below the largest move.
TEST(Trajectory, DriftQuantilesAgreeWithOneRank) {
  train::Config c;
  c.net.width = 1000;  // uneven on 3 and 4 ranks
  c.data.n = 24;
  c.data.d = 5;
  c.steps = 20;
  c.ntk_every = 10;
  c.net.block = 64;
  const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
  const nlohmann::json& s = serial.summary;
  ASSERT_TRUE(s.contains("w_drift_q50") && s.contains("w_drift_q90") && s.contains("w_drift_q99"))
      << s.dump();
  const double q50 = s["w_drift_q50"], q90 = s["w_drift_q90"], q99 = s["w_drift_q99"];
  EXPECT_GT(q50, 0.0);
  EXPECT_LE(q50, q90);
  EXPECT_LE(q90, q99);
  EXPECT_LE(q99, s["w_drift_max"].get<double>() * 1.0055);
  for (int pd = 1; pd <= world_size(); ++pd) {
    if (world_size() % pd) continue;
    const auto parallel = run_on(c, MPI_COMM_WORLD, pd, world_size() / pd);
    for (const char* k : {"w_drift_q50", "w_drift_q90", "w_drift_q99"})
      EXPECT_EQ(parallel.summary[k].get<double>(), s[k].get<double>())
          << k << " grid " << pd << "x" << world_size() / pd;
    EXPECT_NEAR(parallel.summary["w_drift_max"].get<double>(), s["w_drift_max"].get<double>(),
                1e-10 * s["w_drift_max"].get<double>());
  }
}
