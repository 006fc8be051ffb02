// Checkpoint and resume, in fp64:
//   - a run stopped at step 10 and resumed on the same grid ends with W bitwise equal to an
//     uninterrupted run, for full-batch GD and for mini-batch Adam (whose state is checkpointed);
//   - the same checkpoint resumed on one rank (MPI_COMM_SELF) ends within 1e-10 relative;
//   - a damaged tensor is refused with a checksum mismatch.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "mpi_util.hpp"
#include "widemax/core/error.hpp"
#include "widemax/data/npy.hpp"
#include "widemax/train/loop.hpp"

using namespace widemax;
using testing_mpi::world_rank;
using testing_mpi::world_size;
namespace fs = std::filesystem;

namespace {

// A temporary directory shared by all ranks of `comm`, removed at the end of the test.
struct SharedTmp {
  explicit SharedTmp(MPI_Comm c) : comm(c) {
    std::string d = (fs::temp_directory_path() / "widemax-ckpt-XXXXXX").string();
    if (comm.rank() == 0 && !mkdtemp(d.data())) d.clear();
    comm.broadcast(d, 0);
    path = d;
  }
  ~SharedTmp() {
    comm.barrier();
    if (comm.rank() == 0) fs::remove_all(path);
  }
  comm::Communicator comm;
  fs::path path;
};

train::RunResult run_on(train::Config c, MPI_Comm comm, const fs::path& out) {
  c.run.out = out.string();
  c.run.progress = false;
  c.run.save = true;
  int s = 1;
  MPI_Comm_size(comm, &s);
  comm::Grid grid(comm, 1, s);
  return train::run_training(c, grid, 1, {}, /*write_outputs=*/true);
}

std::vector<double> load_W(const fs::path& run, std::int64_t m, std::int64_t d) {
  return data::read_npy_rows<double>(run / "W.npy", 0, m, d);
}

train::Config base(const char* optimizer) {
  train::Config c;
  c.net.width = 1001;
  c.data.n = 40;
  c.data.d = 6;
  c.steps = 20;
  c.net.optimizer.kind = train::parse_optimizer(optimizer);
  if (c.net.optimizer.kind == train::OptimizerKind::kAdam) {
    c.batch = 8;
    c.net.lr.value = 1e-2;
  }
  return c;
}

}  // namespace

TEST(Checkpoint, ResumeOnSameGridIsBitwiseAndOnOneRankWithin1e10) {
  for (const char* opt : {"gd", "adam"}) {
    SharedTmp tmp(MPI_COMM_WORLD);
    const train::Config c = base(opt);
    run_on(c, MPI_COMM_WORLD, tmp.path / "full");
    train::Config first = c;
    first.steps = 10;
    first.run.checkpoint_every = 10;
    run_on(first, MPI_COMM_WORLD, tmp.path / "part");
    if (world_rank() == 0)
      fs::copy(tmp.path / "part", tmp.path / "part1", fs::copy_options::recursive);
    MPI_Barrier(MPI_COMM_WORLD);
    train::Config rest = c;
    rest.run.resume = run::parse_resume("auto");
    const auto resumed = run_on(rest, MPI_COMM_WORLD, tmp.path / "part");
    EXPECT_EQ(resumed.first_step, 10) << opt;
    const auto full = load_W(tmp.path / "full", c.net.width, c.data.d);
    EXPECT_EQ(load_W(tmp.path / "part", c.net.width, c.data.d), full)
        << opt << ": not bitwise equal";

    // The same checkpoint, resumed by each rank alone.
    rest.run.resume = run::parse_resume((tmp.path / "part1").string());
    const fs::path mine = tmp.path / ("self" + std::to_string(world_rank()));
    const auto alone = run_on(rest, MPI_COMM_SELF, mine);
    const auto w = load_W(mine, c.net.width, c.data.d);
    double num = 0, den = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      num += (w[i] - full[i]) * (w[i] - full[i]);
      den += full[i] * full[i];
    }
    EXPECT_LT(std::sqrt(num / den), 1e-10) << opt << " on 1 rank from " << world_size();
    EXPECT_NEAR(alone.losses.back(), resumed.losses.back(), 1e-10 * resumed.losses.back());
  }
}

TEST(Checkpoint, DamagedTensorIsRefused) {
  SharedTmp tmp(MPI_COMM_WORLD);
  train::Config c = base("gd");
  c.steps = 4;
  c.run.checkpoint_every = 4;
  run_on(c, MPI_COMM_WORLD, tmp.path / "run");
  const fs::path w = tmp.path / "run" / "checkpoints" / "step_0000000004" / "A.npy";
  if (world_rank() == 0) {  // flip one byte of the data (a sign of A: +1 -> -1)
    std::fstream f(w, std::ios::in | std::ios::out | std::ios::binary);
    const auto info = data::read_npy_info(w);
    f.seekg(info.data_offset + 7 + 8 * 500);
    char b = 0;
    f.read(&b, 1);
    b ^= static_cast<char>(0x80);
    f.seekp(info.data_offset + 7 + 8 * 500);
    f.write(&b, 1);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  c.steps = 8;
  c.run.resume = run::parse_resume("auto");
  try {
    run_on(c, MPI_COMM_WORLD, tmp.path / "run");
    FAIL() << "resumed from a damaged checkpoint";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum mismatch in"), std::string::npos) << e.what();
  }
}
