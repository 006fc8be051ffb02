// The distributed score model equals the serial one: `widemax diffusion` on every grid of the
// world's ranks (1xP, and Pd x Pw with Pd > 1, which splits the rows, the held-out set and the
// samples) against the same run on MPI_COMM_SELF: the training losses, the held-out score error
// per time bucket, and every coordinate of the samples drawn with the network (SDE without
// baseline, ODE with the Gaussian baseline).
// The same for --parametrisation x0 (fixed training rows, full-batch gradient descent, the
// held-out loss of the early stopping): the losses of every step, the held-out losses, where it
// stops, and the score error.
// The width is uneven on 3 ranks.
#include <gtest/gtest.h>

#include <cmath>

#include "../mpi/mpi_util.hpp"
#include "widemax/comm/grid.hpp"
#include "widemax/diffusion/run.hpp"

using namespace widemax;
using testing_mpi::world_size;

namespace {

diffusion::Config small_config(const char* sampler) {
  diffusion::Config c;
  c.mixture = "ring:4";
  c.n = 48;
  c.eval_n = 40;
  c.samples = 30;
  c.sample_steps = 25;
  c.time_buckets = 3;
  c.time_sampling = diffusion::TimeSampling::kUniform;  // learns fastest in a few steps: the guard
                                                        // below needs progress
  c.sampler = diffusion::parse_sampler(sampler);
  c.net.width = 302;  // even (symmetric pairs), 3 * 100 + 2: uneven on 3 and 4 ranks
  c.net.scale = model::Scale::kSqrtM;
  c.net.init = model::InitKind::kSymmetric;
  c.steps = 15;
  c.log_every = 5;
  c.net.block = 32;
  c.net.optimizer.kind = train::OptimizerKind::kAdam;
  c.net.lr.value = 0.02;
  return c;
}

diffusion::Result run_on(const diffusion::Config& c, MPI_Comm comm, int pd, int pw) {
  comm::Grid grid(comm, pd, pw);
  return diffusion::run_diffusion(c, grid, 1, {}, /*write_outputs=*/false);
}

void expect_same(const diffusion::Result& a, const diffusion::Result& b, const std::string& what) {
  ASSERT_EQ(a.losses.size(), b.losses.size()) << what;
  for (std::size_t i = 0; i < a.losses.size(); ++i)
    EXPECT_NEAR(a.losses[i], b.losses[i], 1e-10 * std::abs(b.losses[i])) << what << " step " << i;
  const double ea = a.summary["score_rel_error"].get<double>();
  const double eb = b.summary["score_rel_error"].get<double>();
  EXPECT_NEAR(ea, eb, 1e-10 * eb) << what;
  for (int k = 0; k < 3; ++k) {
    const double ba = a.summary["score_rel_error_by_t"][k]["rel_error"].get<double>();
    const double bb = b.summary["score_rel_error_by_t"][k]["rel_error"].get<double>();
    EXPECT_NEAR(ba, bb, 1e-10 * bb) << what << " bucket " << k;
  }
  ASSERT_EQ(a.samples.size(), b.samples.size());
  double worst = 0;
  for (std::size_t q = 0; q < a.samples.size(); ++q)
    worst = std::max(worst, std::abs(a.samples[q] - b.samples[q]));
  EXPECT_LT(worst, 1e-9) << what;
  EXPECT_EQ(a.exact_samples, b.exact_samples) << what;  // no network: no reduction order
}

}  // namespace

TEST(DiffusionDistributed, EveryGridEqualsOneRank) {
  const int P = world_size();
  for (const auto& [sampler, baseline] : {std::pair{"sde", "none"}, std::pair{"ode", "gaussian"}}) {
    diffusion::Config c = small_config(sampler);
    c.baseline = diffusion::parse_baseline(baseline);
    const std::string what = std::string(sampler) + ", baseline " + baseline;
    const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
    if (c.baseline == diffusion::Baseline::kNone) {
      // The run trained: otherwise agreeing would prove little. (With the baseline, 15 steps do
      // not beat the Gaussian fit, which is already close at most t.)
      EXPECT_LT(serial.losses.back(), 0.9 * serial.losses.front());
      EXPECT_LT(serial.summary["score_rel_error"].get<double>(),
                serial.summary["initial_score_rel_error"].get<double>());
    }
    expect_same(run_on(c, MPI_COMM_WORLD, 1, P), serial, what + " 1xP");
    if (P > 1) expect_same(run_on(c, MPI_COMM_WORLD, P, 1), serial, what + " Px1");
    if (P == 4) expect_same(run_on(c, MPI_COMM_WORLD, 2, 2), serial, what + " 2x2");
  }
}

TEST(DiffusionDistributed, X0EveryGridEqualsOneRank) {
  const int P = world_size();
  diffusion::Config c = small_config("ode");
  diffusion::apply_x0_defaults(c);
  c.train_samples = 61;  // uneven on 2, 3 and 4 grid rows
  c.holdout_samples = 17;
  c.steps = 40;
  c.log_every = 2;
  c.patience = 3;
  c.net.lr.value = 0;  // the default rate: 1 / the NTK trace estimate
  const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
  ASSERT_EQ(serial.summary["parametrisation"], "x0");
  EXPECT_LT(serial.losses.back(), 0.9 * serial.losses.front());  // it trained
  auto same_x0 = [&](const diffusion::Result& r, const std::string& what) {
    expect_same(r, serial, what);
    EXPECT_EQ(r.summary["steps_done"], serial.summary["steps_done"]) << what;
    EXPECT_EQ(r.summary["best_holdout_step"], serial.summary["best_holdout_step"]) << what;
    EXPECT_DOUBLE_EQ(r.summary["input_scale"].get<double>(),
                     serial.summary["input_scale"].get<double>())
        << what;
    const double h = serial.summary["best_holdout_loss"].get<double>();
    EXPECT_NEAR(r.summary["best_holdout_loss"].get<double>(), h, 1e-10 * h) << what;
  };
  same_x0(run_on(c, MPI_COMM_WORLD, 1, P), "x0 1xP");
  if (P > 1) same_x0(run_on(c, MPI_COMM_WORLD, P, 1), "x0 Px1");
}
