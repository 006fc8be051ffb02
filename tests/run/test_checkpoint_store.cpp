// The run layer's checkpoint store (run/checkpoint.hpp) on its own, without a network: a
// row-split tensor written by P ranks is read back by the same ranks under a different split
// (the ranks' ranges in reverse order) and every element equals its closed form; the manifest
// records step, ranks, shapes and the command's fields; only the newest `keep` checkpoints stay
// and a step_N.tmp directory is never taken for a checkpoint; a flipped element is refused by its
// checksum, naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "widemax/core/error.hpp"
#include "widemax/model/shard.hpp"
#include "widemax/run/checkpoint.hpp"

using namespace widemax;
namespace fs = std::filesystem;

namespace {

// Element (r, j) of the test tensor: distinct for every element, exactly representable.
double value(std::int64_t r, std::int64_t j) {
  return 1000.0 * r + j + 0.25;
}

fs::path shared_tmpdir(const comm::Communicator& world) {
  std::string dir = (fs::temp_directory_path() / "widemax-ckstore-XXXXXX").string();
  if (world.rank() == 0 && mkdtemp(dir.data()) == nullptr) dir.clear();
  world.broadcast(dir, 0);
  return dir;
}

}  // namespace

TEST(CheckpointStore, WritesSplitReadsResplit) {
  const comm::Communicator world(MPI_COMM_WORLD);
  const fs::path dir = shared_tmpdir(world);
  ASSERT_FALSE(dir.empty());
  constexpr std::int64_t rows = 37, cols = 3;
  const model::Range mine = model::shard_range(rows, world.size(), world.rank());
  std::vector<double> local;
  for (std::int64_t r = mine.begin; r < mine.end; ++r)
    for (std::int64_t j = 0; j < cols; ++j) local.push_back(value(r, j));

  for (std::int64_t step : {3, 7, 11}) {
    const std::vector<run::Tensor<const double>> out = {
        {"X", local.data(), mine.begin, mine.size(), rows, cols, true}};
    run::write_checkpoint<double>(world, dir, step, out, {{"note", "test"}}, /*keep=*/2);
  }
  // A leftover newer .tmp directory is not a checkpoint.
  if (world.rank() == 0) fs::create_directories(dir / "checkpoints" / "step_0000000099.tmp");
  world.barrier();
  const auto found = run::find_checkpoint(dir);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->filename().string(), "step_0000000011");
  std::vector<std::string> kept;
  for (const auto& e : fs::directory_iterator(dir / "checkpoints"))
    if (e.path().extension() != ".tmp") kept.push_back(e.path().filename().string());
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(kept, (std::vector<std::string>{"step_0000000007", "step_0000000011"}));

  const nlohmann::json m = run::read_manifest(*found);
  EXPECT_EQ(m["step"], 11);
  EXPECT_EQ(m["ranks"], world.size());
  EXPECT_EQ(m["note"], "test");
  EXPECT_EQ(m["tensors"]["X"]["shape"], nlohmann::json({rows, cols}));

  // Read back with the ranges in reverse rank order: another split of the same rows.
  const model::Range theirs =
      model::shard_range(rows, world.size(), world.size() - 1 - world.rank());
  std::vector<double> back(static_cast<std::size_t>(theirs.size() * cols), -1.0);
  run::read_tensors<double>(world, *found, m,
                            {{"X", back.data(), theirs.begin, theirs.size(), rows, cols, true}});
  for (std::int64_t r = theirs.begin; r < theirs.end; ++r)
    for (std::int64_t j = 0; j < cols; ++j)
      EXPECT_EQ(back[(r - theirs.begin) * cols + j], value(r, j)) << "row " << r << " col " << j;

  // One flipped element (the last one of the file) fails every rank's read with the file named.
  if (world.rank() == 0) {
    std::fstream f(*found / "X.npy", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x55');
  }
  world.barrier();
  try {
    run::read_tensors<double>(world, *found, m,
                              {{"X", back.data(), theirs.begin, theirs.size(), rows, cols, true}});
    ADD_FAILURE() << "a damaged tensor was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum mismatch in"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("X.npy"), std::string::npos) << e.what();
  }
  world.barrier();
  if (world.rank() == 0) fs::remove_all(dir);
}
