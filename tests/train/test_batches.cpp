// Deterministic mini-batches: each epoch's batches are disjoint and drawn from the training ids,
// every full batch has the requested size, the order depends on (seed, epoch) only, and epochs are
// reshuffled.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "widemax/core/error.hpp"
#include "widemax/train/batches.hpp"

using namespace widemax::train;

TEST(Batches, EpochPermutationIsAPermutation) {
  for (std::int64_t n : {1, 2, 17, 1000}) {
    auto p = epoch_permutation(n, 3, 0);
    std::sort(p.begin(), p.end());
    for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(p[i], i);
  }
  EXPECT_NE(epoch_permutation(100, 3, 0), epoch_permutation(100, 3, 1));
  EXPECT_NE(epoch_permutation(100, 3, 0), epoch_permutation(100, 4, 0));
  EXPECT_EQ(epoch_permutation(100, 3, 5), epoch_permutation(100, 3, 5));
}

TEST(Batches, EpochsCoverTrainingIdsWithoutRepeats) {
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < 103; ++i)
    if (i % 7 != 3) ids.push_back(i);  // some rows held out
  const std::set<std::int64_t> allowed(ids.begin(), ids.end());
  BatchSchedule s(ids, 10, 42);
  EXPECT_EQ(s.batches_per_epoch(), static_cast<std::int64_t>(ids.size()) / 10);
  for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
    std::set<std::int64_t> seen;
    for (std::int64_t b = 0; b < s.batches_per_epoch(); ++b) {
      const auto& batch = s.batch(epoch * s.batches_per_epoch() + b);
      ASSERT_EQ(batch.size(), 10u);
      for (auto id : batch) {
        ASSERT_TRUE(allowed.count(id)) << id;
        ASSERT_TRUE(seen.insert(id).second) << "id " << id << " twice in epoch " << epoch;
      }
    }
  }
  // Random access: going back to step 0 gives the first batch again.
  BatchSchedule fresh(ids, 10, 42);
  const auto first = fresh.batch(0);
  EXPECT_NE(s.batch(s.batches_per_epoch()), first);  // epoch 1 differs
  EXPECT_EQ(s.batch(0), first);
}

TEST(Batches, RefusesBadSizes) {
  EXPECT_THROW(BatchSchedule({1, 2, 3}, 4, 0), widemax::Error);
  EXPECT_THROW(BatchSchedule({1, 2, 3}, 0, 0), widemax::Error);
}
