// The --grid auto cost model: the all-reduce formula, and the grids it must pick in the regimes
// docs/design.md §2.3 describes (very wide: all ranks on the width; many samples and a moderate
// width: data-parallel rows).
#include <gtest/gtest.h>

#include <cmath>

#include "widemax/comm/cost_model.hpp"
#include "widemax/train/perf_model.hpp"

using namespace widemax::comm;

TEST(CostModel, AllreduceFormula) {
  const Network net{1e-6, 1e9, "test"};
  EXPECT_EQ(allreduce_seconds(net, 1, 1e6), 0.0);
  EXPECT_DOUBLE_EQ(allreduce_seconds(net, 2, 1e6), 2 * 1e-6 + 1e6 / 1e9);
  EXPECT_DOUBLE_EQ(allreduce_seconds(net, 4, 1e6), 4 * 1e-6 + 1.5 * 1e6 / 1e9);
}

TEST(CostModel, WideModelPutsAllRanksOnTheWidth) {
  const Network net{2e-6, 5e9, "test"};
  StepShape s{512, 1 << 24, 64, 1, false, 8, 4e-9, 1};
  const auto ranked = rank_grids(s, net, 8);
  ASSERT_FALSE(ranked.empty());
  EXPECT_EQ(ranked.front().p_data, 1);
  EXPECT_EQ(ranked.front().p_width, 8);
}

TEST(CostModel, ManySamplesModerateWidthPrefersDataRows) {
  const Network net{2e-6, 5e9, "test"};
  StepShape s{1 << 20, 256, 16, 1, false, 8, 4e-9, 1};
  const auto ranked = rank_grids(s, net, 4);
  EXPECT_EQ(ranked.front().p_data, 4);
  EXPECT_EQ(ranked.front().p_width, 1);
  // The row all-reduce of the 1x4 grid carries n (d_out + 2) numbers; check the model says so.
  const auto wide = grid_cost(s, net, 1, 4);
  EXPECT_NEAR(wide.row_s, allreduce_seconds(net, 4, (1 << 20) * 3.0 * 8), 1e-15);
  EXPECT_EQ(wide.column_s, 0.0);
}

TEST(CostModel, SkipsGridsWithIdleRanks) {
  StepShape s{3, 1000, 4, 1, false, 8, 4e-9, 1};
  for (const auto& g : rank_grids(s, Network{}, 4)) EXPECT_LE(g.p_data, 3);
}

// The compute term: seconds per pair from the rates (perf_model.hpp), scaled by the pairs a rank
// holds and divided by its cores; an oversubscribed rank (half a core) takes twice as long.
TEST(CostModel, ComputeFromKernelRates) {
  widemax::train::KernelRates r;
  r.logits_flops = 1e11;
  r.grad_flops = 5e10;
  r.exp_per_s = 2e9;
  r.other_s = 1e-10;
  const std::int64_t d = 64;
  // Without the cache: 2 logit GEMMs (2d flops each per pair), 1 gradient GEMM, 2 exps.
  EXPECT_DOUBLE_EQ(widemax::train::seconds_per_pair(r, d, false),
                   2 * 128 / 1e11 + 128 / 5e10 + 2 / 2e9 + 1e-10);
  EXPECT_DOUBLE_EQ(widemax::train::seconds_per_pair(r, d, true),
                   128 / 1e11 + 128 / 5e10 + 1 / 2e9 + 1e-10);
  StepShape s{1000, 1 << 20, d, 1, false, 8, widemax::train::seconds_per_pair(r, d, false), 2};
  const auto full = grid_cost(s, Network{}, 1, 4);
  EXPECT_DOUBLE_EQ(full.compute_s, s.seconds_per_pair * 1000.0 * (1 << 18) / 2);
  s.cores_per_rank = 0.5;
  EXPECT_DOUBLE_EQ(grid_cost(s, Network{}, 1, 4).compute_s, 4 * full.compute_s);
}
