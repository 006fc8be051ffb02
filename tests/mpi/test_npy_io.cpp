// Collective .npy writes: every rank writes its own rows with MPI-IO and the file read back
// serially equals the whole model initialised on one rank; a trainer started with --init-from that
// file holds exactly those weights.
#include <gtest/gtest.h>

#include <filesystem>

#include "widemax/comm/npy_io.hpp"
#include "widemax/data/npy.hpp"
#include "widemax/train/trainer.hpp"

using namespace widemax;

TEST(NpyIo, CollectiveWriteReadsBackAsWhole) {
  comm::Communicator world(MPI_COMM_WORLD);
  std::string dir = (std::filesystem::temp_directory_path() / "widemax-npyio-XXXXXX").string();
  if (world.rank() == 0) {
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
  }
  world.broadcast(dir, 0);
  const model::Shape s{257, 5, 2, model::Activation::kSoftmax, model::Scale::kM};
  model::Params<double> shard;
  shard.neurons = model::shard_range(s.m, world.size(), world.rank());
  model::init_params(s, model::InitSpec{model::InitKind::kGaussian, 1.0, 4}, shard);
  const std::filesystem::path path = std::filesystem::path(dir) / "W.npy";
  comm::write_npy_rows(world, path, shard.W.data(), shard.neurons.begin, shard.neurons.size(), s.m,
                       s.d);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  model::Params<double> whole;
  whole.neurons = {0, s.m};
  model::init_params(s, model::InitSpec{model::InitKind::kGaussian, 1.0, 4}, whole);
  EXPECT_EQ(data::read_npy_rows<double>(path, 0, s.m, s.d), whole.W);
  // float files too
  std::vector<float> wf(shard.W.begin(), shard.W.end());
  comm::write_npy_rows(world, std::filesystem::path(dir) / "Wf.npy", wf.data(), shard.neurons.begin,
                       shard.neurons.size(), s.m, s.d);
  const auto back = data::read_npy_rows<float>(std::filesystem::path(dir) / "Wf.npy", 0, s.m, s.d);
  EXPECT_EQ(back, std::vector<float>(whole.W.begin(), whole.W.end()));

  // --init-from: write A too, then a trainer on all ranks loads its own rows.
  comm::write_npy_rows(world, std::filesystem::path(dir) / "A.npy", shard.A.data(),
                       shard.neurons.begin, shard.neurons.size(), s.m, s.d_out);
  train::Config c;
  c.net.width = s.m;
  c.data.n = 7;
  c.data.d = s.d;
  c.net.d_out = s.d_out;
  c.net.init_from = dir;
  c.net.seed = 999;  // a different seed: the weights must come from the files
  comm::Grid grid(MPI_COMM_WORLD, 1, world.size());
  train::Trainer<double> tr(c.net, grid,
                            train::load_data(c.data, c.net.d_out, c.net.d_out_given, grid), 1);
  EXPECT_EQ(tr.params().W, shard.W);
  EXPECT_EQ(tr.params().A, shard.A);
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove_all(dir);
}
