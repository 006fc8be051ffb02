// The distributed forward output and W gradient equal a serial computation: the naive reference
// for F (ranks split over the neurons), and the kernels run on the whole model in one shard for the
// gradient, on every grid of the world's ranks (1xP, Px1 and, on 4 ranks, 2x2). Width 101 and
// 13 samples are uneven for 2, 3 and 4 ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "reference.hpp"
#include "widemax/train/trainer.hpp"

using namespace widemax;

namespace {

train::Config small_config(const std::string& act) {
  train::Config c;
  c.net.activation = model::parse_activation(act);
  c.net.scale = model::Scale::kSqrtM;
  c.net.width = 101;
  c.data.n = 13;
  c.data.d = 5;
  c.net.d_out = 3;
  c.net.sigma = c.net.activation == model::Activation::kExp ? 0.5 : 1.0;
  c.net.seed = 11;
  c.net.train_a = true;
  return c;
}

}  // namespace

TEST(DistributedForward, EqualsSerialReference) {
  for (const char* act : {"softmax", "exp", "relu"}) {
    const train::Config c = small_config(act);
    comm::Grid grid(MPI_COMM_WORLD, 1, [] {
      int s;
      MPI_Comm_size(MPI_COMM_WORLD, &s);
      return s;
    }());
    const train::LocalData data = train::load_data(c.data, c.net.d_out, c.net.d_out_given, grid);
    train::Trainer<double> tr(c.net, grid, data, 2);
    tr.evaluate_train();
    // The reference holds the whole model, initialised on this rank alone.
    const model::Shape s = tr.shape();
    model::Params<double> whole;
    whole.neurons = {0, c.net.width};
    model::init_params(s, model::InitSpec{c.net.init, c.net.sigma, c.net.seed}, whole);
    ref::RefNet net{c.net.width,
                    s.d,
                    s.d_out,
                    static_cast<int>(s.activation),
                    static_cast<long double>(model::output_scale(s)),
                    whole.W,
                    whole.A};
    const auto ref = ref::ref_forward(net, data.train.X, c.data.n);
    EXPECT_LT(ref::rel_diff(tr.output(), ref), 1e-12) << act;
  }
}

TEST(DistributedGradient, EqualsSerialGradient) {
  int world = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  for (const char* act : {"softmax", "exp", "relu"}) {
    for (int pd = 1; pd <= world; ++pd) {  // every grid of this many ranks: 1xP, 2x2, Px1, ...
      if (world % pd) continue;
      const int pw = world / pd;
      const std::string grid_text = std::to_string(pd) + "x" + std::to_string(pw);
      const train::Config c = small_config(act);
      comm::Grid grid(MPI_COMM_WORLD, pd, pw);
      comm::Grid self(MPI_COMM_SELF, 1, 1);
      const train::LocalData data = train::load_data(c.data, c.net.d_out, c.net.d_out_given, grid);
      const train::LocalData all = train::load_data(c.data, c.net.d_out, c.net.d_out_given, self);
      train::Trainer<double> dist(c.net, grid, data, 2);
      train::Trainer<double> serial(c.net, self, all, 1);
      const double l_dist = dist.compute_gradient();
      const double l_serial = serial.compute_gradient();
      EXPECT_NEAR(l_dist, l_serial, 1e-12 * l_serial) << act << " " << grid_text;
      const auto r = dist.params().neurons;
      const auto gs = serial.grad_W().subspan(r.begin * c.data.d, r.size() * c.data.d);
      EXPECT_LT(ref::rel_diff(dist.grad_W(), gs), 1e-12) << act << " " << grid_text;
      const auto gas = serial.grad_A().subspan(r.begin * c.net.d_out, r.size() * c.net.d_out);
      EXPECT_LT(ref::rel_diff(dist.grad_A(), gas), 1e-12) << act << " " << grid_text;
    }
  }
}

// --standardize on a 1e160 column (whose squares overflow a double; it used to come out all 0)
// with the rows split over every data rank: x_i = 1e160 i for i = 1..8 has mean 4.5e160 and
// population stddev sqrt(5.25) 1e160, so row i standardises to (i - 4.5) / sqrt(5.25).
TEST(LoadData, StandardizesAHugeColumnExactly) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const std::string path = ::testing::TempDir() + "widemax_huge_column.csv";
  if (rank == 0) {
    std::ofstream f(path);
    f << "big,small,y\n";
    for (int i = 1; i <= 8; ++i) f << i << "e160," << i << "," << i % 2 << "\n";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  train::Config c;
  c.data.csv = path;
  c.data.target = {"y"};
  c.data.standardize = true;
  comm::Grid grid(MPI_COMM_WORLD, size, 1);
  const train::LocalData data = train::load_data(c.data, 1, false, grid);
  ASSERT_EQ(data.d, 2);
  for (std::int64_t k = 0; k < data.train.size(); ++k) {
    const double z = (static_cast<double>(data.train.ids[k] + 1) - 4.5) / std::sqrt(5.25);
    EXPECT_NEAR(data.train.X[k * 2], z, 1e-14) << "row " << data.train.ids[k];
    EXPECT_NEAR(data.train.X[k * 2 + 1], z, 1e-14) << "row " << data.train.ids[k];
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) std::remove(path.c_str());
}
