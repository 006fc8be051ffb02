// Shard arithmetic for every part of many (total, parts) pairs, uneven splits included: the ranges
// tile [0, total) in order, sizes differ by at most one, and shard_owner inverts shard_range.
#include <gtest/gtest.h>

#include "widemax/core/error.hpp"
#include "widemax/model/shard.hpp"

using widemax::model::shard_owner;
using widemax::model::shard_range;

TEST(Shard, RangesTileAndBalanceForManySizes) {
  for (std::int64_t total : {0, 1, 2, 3, 5, 7, 16, 100, 101, 1000, 1023, 65537}) {
    for (int parts = 1; parts <= 67; ++parts) {
      std::int64_t expect_begin = 0, min_size = total + 1, max_size = -1;
      for (int p = 0; p < parts; ++p) {
        const auto r = shard_range(total, parts, p);
        ASSERT_EQ(r.begin, expect_begin) << total << " " << parts << " " << p;
        ASSERT_GE(r.size(), 0);
        expect_begin = r.end;
        min_size = std::min(min_size, r.size());
        max_size = std::max(max_size, r.size());
        // The closed form: floor(total/parts) plus one for the first total % parts parts.
        ASSERT_EQ(r.size(), total / parts + (p < total % parts ? 1 : 0));
      }
      ASSERT_EQ(expect_begin, total);
      ASSERT_LE(max_size - min_size, 1);
      if (total >= parts) {
        ASSERT_GE(min_size, 1);
      }
    }
  }
}

TEST(Shard, OwnerInvertsRange) {
  for (std::int64_t total : {1, 3, 10, 99, 1000}) {
    for (int parts = 1; parts <= 40; ++parts) {
      for (int p = 0; p < parts; ++p) {
        const auto r = shard_range(total, parts, p);
        for (std::int64_t i = r.begin; i < r.end; ++i) ASSERT_EQ(shard_owner(total, parts, i), p);
      }
    }
  }
}

TEST(Shard, RejectsBadArguments) {
  EXPECT_THROW(shard_range(10, 0, 0), widemax::Error);
  EXPECT_THROW(shard_range(10, 3, 3), widemax::Error);
  EXPECT_THROW(shard_owner(10, 3, 10), widemax::Error);
}
