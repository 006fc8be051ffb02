// Grid invariance (docs/design.md §2.3): every P_data x P_width arrangement of the world's ranks
// follows the trajectory of one rank. The one-rank run is computed on MPI_COMM_SELF in the same
// test.
//   - full-batch gradient descent, uneven sample and neuron splits: final loss to 1e-10 relative;
//   - mini-batch Adam (and momentum with a cosine schedule) for 100 steps: to 1e-9;
//   - classification of the wine data with a held-out split: the same test accuracy and loss.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "mpi_util.hpp"
#include "widemax/train/grid_choice.hpp"
#include "widemax/train/loop.hpp"
#include "widemax/train/ntk_run.hpp"
#include "widemax/train/trainer.hpp"

using namespace widemax;
using testing_mpi::world_rank;
using testing_mpi::world_size;

namespace {

std::vector<std::pair<int, int>> all_grids() {
  std::vector<std::pair<int, int>> g;
  for (int pd = 1; pd <= world_size(); ++pd)
    if (world_size() % pd == 0) g.push_back({pd, world_size() / pd});
  return g;
}

train::RunResult run_on(const train::Config& c, MPI_Comm comm, int pd, int pw) {
  comm::Grid grid(comm, pd, pw);
  return train::run_training(c, grid, 1, {}, /*write_outputs=*/false);
}

std::string grid_name(std::pair<int, int> g) {
  return std::to_string(g.first) + "x" + std::to_string(g.second);
}

}  // namespace

TEST(GridInvariance, FullBatchGradientDescent) {
  train::Config c;
  c.net.width = 1001;  // uneven over 2, 3, 4 grid columns
  c.data.n = 37;       // uneven over 2, 3, 4 grid rows
  c.data.d = 5;
  c.net.d_out = 2;
  c.steps = 40;
  c.net.train_a = true;
  c.net.block = 48;
  const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
  EXPECT_LT(serial.losses.back(), 0.9 * serial.losses.front());
  for (const auto& g : all_grids()) {
    const auto r = run_on(c, MPI_COMM_WORLD, g.first, g.second);
    EXPECT_NEAR(r.losses.back(), serial.losses.back(), 1e-10 * serial.losses.back())
        << grid_name(g);
  }
}

// With a gradient of several MiB per rank, P_data > 1 reduces it in several non-blocking chunks
// (Trainer::overlap_chunks), and the logit cache can be on or off: every combination follows the
// serial run (cache off) to 1e-10, and W itself agrees.
TEST(GridInvariance, OverlappedChunksAndLogitCache) {
  train::Config c;
  c.net.width = 70001;  // (70001 d + 1) doubles: ~2.8 MiB per grid column of one
  c.data.n = 9;
  c.data.d = 5;
  c.net.d_out = 2;
  c.steps = 5;
  c.net.train_a = true;
  c.net.block = 1000;
  c.net.logit_cache = train::LogitCacheMode::kOff;
  const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
  EXPECT_LT(serial.losses.back(), serial.losses.front());
  for (const char* cache : {"off", "on"}) {
    c.net.logit_cache = train::parse_logit_cache(cache);
    for (const auto& g : all_grids()) {
      comm::Grid grid(MPI_COMM_WORLD, g.first, g.second);
      const auto data = train::load_data(c.data, c.net.d_out, c.net.d_out_given, grid);
      train::Trainer<double> tr(c.net, grid, data, 1);
      EXPECT_EQ(tr.logit_cache_on(), c.net.logit_cache == train::LogitCacheMode::kOn);
      if (g.first > 1 && g.second == 1) {
        EXPECT_GT(tr.overlap_chunks(), 1) << grid_name(g);
      }
      const auto r = run_on(c, MPI_COMM_WORLD, g.first, g.second);
      EXPECT_NEAR(r.losses.back(), serial.losses.back(), 1e-10 * serial.losses.back())
          << grid_name(g) << " cache " << cache;
    }
  }
}

TEST(GridInvariance, MiniBatchAdamAndMomentum) {
  for (const char* opt : {"adam", "momentum"}) {
    train::Config c;
    c.net.scale = model::Scale::kSqrtM;
    c.net.width = 998;
    c.data.n = 50;
    c.data.d = 6;
    c.steps = 100;
    c.batch = 8;  // >= 4 grid rows; 6 batches an epoch: the shuffle is exercised
    c.net.optimizer.kind = train::parse_optimizer(opt);
    c.net.lr.value = c.net.optimizer.kind == train::OptimizerKind::kAdam ? 1e-2 : 2e-3;
    if (c.net.optimizer.kind == train::OptimizerKind::kMomentum)
      c.net.schedule.kind = train::ScheduleKind::kCosine;
    const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
    EXPECT_LT(serial.losses.back(), 0.5 * serial.initial_loss) << opt;
    for (const auto& g : all_grids()) {
      const auto r = run_on(c, MPI_COMM_WORLD, g.first, g.second);
      ASSERT_EQ(r.losses.size(), serial.losses.size());
      // Batch losses step by step, then the final full-data loss.
      for (std::size_t s = 0; s < r.losses.size(); s += 10)
        ASSERT_NEAR(r.losses[s], serial.losses[s], 1e-9 * serial.losses[s])
            << opt << " " << grid_name(g) << " step " << s;
      EXPECT_NEAR(r.losses.back(), serial.losses.back(), 1e-9 * serial.losses.back())
          << opt << " " << grid_name(g);
    }
  }
}

TEST(GridInvariance, WineClassificationWithHeldOutSplit) {
  const char* dir = std::getenv("WIDEMAX_EXAMPLES_DATA");
  ASSERT_NE(dir, nullptr) << "WIDEMAX_EXAMPLES_DATA is set by CMake";
  train::Config c;
  c.data.csv = (std::filesystem::path(dir) / "wine.csv").string();
  c.data.target = {"class"};
  c.data.classes = 3;
  c.data.standardize = true;
  c.data.test_fraction = 0.25;
  c.net.width = 2000;
  c.net.sigma = 0.3;
  c.net.scale = model::Scale::kSqrtM;
  c.net.init =
      model::InitKind::kSymmetric;  // F(W_0) = 0: no random initial output to generalise through
  c.steps = 60;
  c.log_every = 0;
  const auto serial = run_on(c, MPI_COMM_SELF, 1, 1);
  const double acc = serial.summary["test_accuracy"].get<double>();
  EXPECT_GT(acc, 0.9) << "wine is nearly separable: a trained network should classify it";
  EXPECT_GT(serial.summary["n_test"].get<std::int64_t>(), 20);
  for (const auto& g : all_grids()) {
    const auto r = run_on(c, MPI_COMM_WORLD, g.first, g.second);
    EXPECT_EQ(r.summary["test_accuracy"].get<double>(), acc) << grid_name(g);
    EXPECT_EQ(r.summary["n_test"], serial.summary["n_test"]) << grid_name(g);
    EXPECT_NEAR(r.summary["test_loss"].get<double>(), serial.summary["test_loss"].get<double>(),
                1e-10 * serial.summary["test_loss"].get<double>())
        << grid_name(g);
    EXPECT_NEAR(r.losses.back(), serial.losses.back(), 1e-10 * serial.losses.back())
        << grid_name(g);
  }
  if (widemax::comm::Communicator(MPI_COMM_WORLD).rank() == 0)
    std::printf("[wine] test accuracy %.4f on %lld held-out samples, train accuracy %.4f\n", acc,
                static_cast<long long>(serial.summary["n_test"].get<std::int64_t>()),
                serial.summary["train_accuracy"].get<double>());
}
