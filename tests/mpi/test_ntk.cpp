// The sharded NTK equals the one-rank NTK (to 1e-12, fp64) on every grid of the world's ranks,
// for a subset of samples too; and the linearised dynamics: one small gradient step changes the
// outputs by -eta H R to first order, with a relative error that shrinks in proportion to eta.
#include <gtest/gtest.h>

#include "mpi_util.hpp"
#include "reference.hpp"
#include "widemax/train/grid_choice.hpp"
#include "widemax/train/loop.hpp"
#include "widemax/train/ntk_run.hpp"
#include "widemax/train/trainer.hpp"

using namespace widemax;
using testing_mpi::world_rank;
using testing_mpi::world_size;

namespace {

train::Config ntk_config(const std::string& act) {
  train::Config c;
  c.net.activation = model::parse_activation(act);
  c.net.width = 301;
  c.data.n = 11;
  c.data.d = 4;
  c.net.d_out = 2;
  c.net.sigma = c.net.activation == model::Activation::kExp ? 0.5 : 1.0;
  c.ntk_every = 1;
  return c;
}

std::vector<double> ntk_on(const train::Config& c, MPI_Comm comm, int pd, int pw,
                           const std::vector<std::int64_t>& ids) {
  comm::Grid grid(comm, pd, pw);
  const train::LocalData data = train::load_data(c.data, c.net.d_out, c.net.d_out_given, grid);
  train::Trainer<double> tr(c.net, grid, data, 2);
  tr.set_ntk_samples(ids);
  return tr.ntk();
}
}  // namespace

TEST(ShardedNtk, EqualsSerialOnEveryGrid) {
  for (const char* act : {"softmax", "exp", "relu"}) {
    const train::Config c = ntk_config(act);
    std::vector<std::int64_t> all(c.data.n), subset = {1, 4, 5, 9};
    for (std::int64_t i = 0; i < c.data.n; ++i) all[i] = i;
    for (const auto& ids : {all, subset}) {
      const auto serial = ntk_on(c, MPI_COMM_SELF, 1, 1, ids);
      for (int pd = 1; pd <= world_size(); ++pd) {
        if (world_size() % pd) continue;
        const auto H = ntk_on(c, MPI_COMM_WORLD, pd, world_size() / pd, ids);
        EXPECT_LT(ref::rel_diff(H, serial), 1e-12)
            << act << " grid " << pd << "x" << world_size() / pd << " samples " << ids.size();
      }
    }
  }
}

TEST(LinearisedDynamics, OneStepChangeIsMinusEtaHR) {
  for (const char* act : {"softmax", "exp", "relu"}) {
    train::Config c = ntk_config(act);
    if (c.net.activation == model::Activation::kSoftmax) c.net.scale = model::Scale::kSqrtM;
    c.net.width = 2000;
    comm::Grid grid(MPI_COMM_WORLD, 1, world_size());  // every rank holds every sample
    const train::LocalData data = train::load_data(c.data, c.net.d_out, c.net.d_out_given, grid);
    std::vector<std::int64_t> ids(c.data.n);
    for (std::int64_t i = 0; i < c.data.n; ++i) ids[i] = i;
    std::vector<double> errors;
    double lambda_max = 0;
    for (double factor : {1e-1, 1e-2, 1e-3}) {
      train::Trainer<double> tr(c.net, grid, data, 1);
      tr.set_ntk_samples(ids);
      const auto H = tr.ntk();
      const std::int64_t N = tr.ntk_size();
      if (lambda_max == 0) lambda_max = ntk::symmetric_eigenvalues(H, N).back();
      const double eta = factor / lambda_max;
      const std::vector<double> F0(tr.ntk_outputs().begin(), tr.ntk_outputs().end());
      std::vector<double> R(N), predicted(N, 0.0);
      for (std::int64_t a = 0; a < N; ++a) R[a] = F0[a] - data.train.Y[a];
      for (std::int64_t a = 0; a < N; ++a)
        for (std::int64_t b = 0; b < N; ++b) predicted[a] -= eta * H[a * N + b] * R[b];
      tr.compute_gradient();
      tr.apply_update(eta, 0);
      tr.ntk();  // recomputes the outputs at the new weights
      std::vector<double> actual(N);
      for (std::int64_t a = 0; a < N; ++a) actual[a] = tr.ntk_outputs()[a] - F0[a];
      errors.push_back(ref::rel_diff(actual, predicted));
    }
    EXPECT_LT(errors[0], 0.2) << act;
    if (c.net.activation != model::Activation::kRelu) {
      // Smooth in W: the error is second order, so the relative error falls ~10x per 10x eta.
      EXPECT_LT(errors[1], 0.2 * errors[0]) << act << " " << errors[0] << " -> " << errors[1];
      EXPECT_LT(errors[2], 0.2 * errors[1]) << act << " " << errors[1] << " -> " << errors[2];
    } else {
      // Piecewise linear in W: exact but for neurons whose logit crosses 0 during the step, and
      // fewer cross for smaller steps.
      EXPECT_LE(errors[1], errors[0]) << act;
      EXPECT_LE(errors[2], errors[1]) << act;
      EXPECT_LT(errors[2], 1e-3) << act;
    }
  }
}
