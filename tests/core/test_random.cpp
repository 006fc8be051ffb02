// Tests of the counter-based generator: the mixer against published SplitMix64 values, the ranges
// and moments of the distributions against their textbook values (5-sigma tolerances, so a
// correct generator fails with negligible probability), determinism, and stream separation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <set>

#include "widemax/core/random.hpp"

namespace widemax::rng {
namespace {

constexpr int kSamples = 100000;

TEST(Random, MixMatchesSplitMix64Reference) {
  // SplitMix64 seeded with 0 outputs mix(0), mix(g), mix(2g), ... (g = golden gamma); these are
  // the first three outputs of Vigna's reference splitmix64.c.
  constexpr std::uint64_t g = 0x9e3779b97f4a7c15ULL;
  EXPECT_EQ(mix(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(mix(g), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(mix(2 * g), 0x06c45d188009454fULL);
}

TEST(Random, UniformIsInOpenUnitIntervalWithRightMoments) {
  double sum = 0, sum2 = 0;
  for (int i = 0; i < kSamples; ++i) {
    const double u = uniform(7, kStreamW, static_cast<std::uint64_t>(i), 3);
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
  }
  const double mean = sum / kSamples, var = sum2 / kSamples - mean * mean;
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1.0 / 12.0 / kSamples));
  // Var of the sample variance of U(0,1) is (1/80 - 1/144)/n.
  EXPECT_NEAR(var, 1.0 / 12.0, 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / kSamples));
}

TEST(Random, NormalHasStandardMoments) {
  double sum = 0, sum2 = 0, sum4 = 0;
  int within_one = 0;
  for (int i = 0; i < kSamples; ++i) {
    const double z = normal(11, kStreamA, static_cast<std::uint64_t>(i), 5);
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sum2 += z * z;
    sum4 += z * z * z * z;
    within_one += std::abs(z) < 1.0;
  }
  const double mean = sum / kSamples;
  EXPECT_NEAR(mean, 0.0, 5 / std::sqrt(kSamples));
  EXPECT_NEAR(sum2 / kSamples, 1.0, 5 * std::sqrt(2.0 / kSamples));
  EXPECT_NEAR(sum4 / kSamples, 3.0, 5 * std::sqrt(96.0 / kSamples));  // Var(z^4) = 105 - 9
  const double p = std::erf(1.0 / std::sqrt(2.0));                    // P(|z| < 1) = 0.6827
  EXPECT_NEAR(within_one / double(kSamples), p, 5 * std::sqrt(p * (1 - p) / kSamples));
}

TEST(Random, NeighbouringCountersAreUncorrelated) {
  double sxy = 0;
  for (int i = 0; i < kSamples; ++i) {
    const auto ui = static_cast<std::uint64_t>(i);
    sxy += normal(3, kStreamW, ui, 0) * normal(3, kStreamW, ui, 1);
  }
  EXPECT_NEAR(sxy / kSamples, 0.0, 5 / std::sqrt(kSamples));
}

TEST(Random, IsDeterministic) {
  for (std::uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(uniform(42, kStreamW, i, 9), uniform(42, kStreamW, i, 9));
    EXPECT_EQ(normal(42, kStreamA, i, 9), normal(42, kStreamA, i, 9));
    EXPECT_EQ(sign(42, kStreamA, i, 9), sign(42, kStreamA, i, 9));
  }
}

TEST(Random, SeedsStreamsAndIndicesGiveDifferentValues) {
  std::set<double> seen;
  int draws = 0;
  for (std::uint64_t seed : {0ULL, 1ULL})
    for (std::uint64_t stream : {std::uint64_t{kStreamW}, std::uint64_t{kStreamA},
                                 std::uint64_t{kStreamDataX}, std::uint64_t{kStreamDataTeacher}})
      for (std::uint64_t i = 0; i < 4; ++i)
        for (std::uint64_t j = 0; j < 4; ++j) {
          seen.insert(uniform(seed, stream, i, j));
          ++draws;
        }
  // 128 draws of 53 random bits: a collision means the counters are not all mixed in.
  EXPECT_EQ(static_cast<int>(seen.size()), draws);
  // Swapping i and j must not give the same value.
  EXPECT_NE(uniform(5, kStreamW, 1, 2), uniform(5, kStreamW, 2, 1));
}

TEST(Random, SignIsBalanced) {
  int plus = 0;
  for (int i = 0; i < kSamples; ++i) {
    const double s = sign(13, kStreamA, static_cast<std::uint64_t>(i), 0);
    ASSERT_TRUE(s == 1.0 || s == -1.0) << s;
    plus += s > 0;
  }
  EXPECT_NEAR(plus, kSamples / 2.0, 5 * std::sqrt(kSamples) / 2);
}

}  // namespace
}  // namespace widemax::rng
