// "No allocation in the training loop": every C++ allocation (operator new) of this executable is
// counted, and the body of a training step (batch selection, forward, the merge all-reduce,
// backward, the gradient all-reduces, the divergence/preemption check, grad_norm, the optimiser
// update) must make none once the run is set up. Covers full batch and mini-batches (several
// epochs, so the reshuffle too), Adam with --train-a, logit cache on and off, and every grid of
// the world's ranks (P_data > 1 takes the overlapped non-blocking path). MPI's own allocations
// (malloc inside the library) are not C++ allocations and are not counted.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "mpi_util.hpp"
#include "widemax/train/batches.hpp"
#include "widemax/train/grid_choice.hpp"
#include "widemax/train/loop.hpp"
#include "widemax/train/ntk_run.hpp"
#include "widemax/train/trainer.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, std::align_val_t al) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(al);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

using namespace widemax;
using testing_mpi::world_size;

namespace {

// Runs `steps` steps the way run_training's loop does; returns the allocations they made.
long allocations_in_steps(const train::Config& c, int pd, int pw, std::int64_t steps) {
  comm::Grid grid(MPI_COMM_WORLD, pd, pw);
  const auto data = train::load_data(c.data, c.net.d_out, c.net.d_out_given, grid);
  train::Trainer<double> tr(c.net, grid, data, 1);
  std::unique_ptr<train::BatchSchedule> batches;
  if (c.batch > 0)
    batches =
        std::make_unique<train::BatchSchedule>(data.train_ids_global, c.batch, c.data.data_seed);
  auto step = [&](std::int64_t s) {
    if (batches) tr.select_batch(batches->batch(s));
    const double loss = tr.compute_gradient();
    int flags[2] = {0, std::isfinite(tr.local_grad_sq()) && std::isfinite(loss) ? 0 : 1};
    grid.world().allreduce_max(std::span<int>(flags));
    EXPECT_EQ(flags[1], 0);
    const double gn = tr.grad_norm();
    EXPECT_TRUE(std::isfinite(gn));
    tr.apply_update(1e-3, s);
  };
  step(0);  // the first step may still fault pages in, but allocates nothing either
  const long before = g_allocations.load();
  for (std::int64_t s = 1; s <= steps; ++s) step(s);
  return g_allocations.load() - before;
}

}  // namespace

TEST(NoAllocation, TrainingStepsAllocateNothing) {
  for (const char* cache : {"on", "off"}) {
    for (const std::int64_t batch : {std::int64_t{0}, std::int64_t{8}}) {
      train::Config c;
      c.net.width = 20011;
      c.data.n = 40;
      c.data.d = 5;
      c.net.d_out = 3;
      c.net.train_a = true;
      c.net.optimizer.kind = train::OptimizerKind::kAdam;
      c.batch = batch;  // 8 of 40: 5 batches an epoch, 12 steps cross two epoch boundaries
      c.net.block = 512;
      c.net.logit_cache = train::parse_logit_cache(cache);
      for (int pd = 1; pd <= world_size(); ++pd) {
        if (world_size() % pd) continue;
        EXPECT_EQ(allocations_in_steps(c, pd, world_size() / pd, 12), 0)
            << "grid " << pd << "x" << world_size() / pd << " cache " << cache << " batch "
            << batch;
      }
    }
  }
}
