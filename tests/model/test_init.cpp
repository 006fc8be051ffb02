// Initialisation keyed by global neuron index: any sharding gives the same W_0 and A_0
// (docs/design.md §2.4); the distribution is right; the symmetric init makes F(W_0) = 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "reference.hpp"
#include "widemax/core/error.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/model/model.hpp"

using namespace widemax::model;

TEST(Init, ShardsConcatenateToTheWholeForAnyRankCount) {
  const Shape s{1001, 7, 3, Activation::kSoftmax, Scale::kM};
  Params<double> whole;
  whole.neurons = {0, s.m};
  init_params(s, InitSpec{InitKind::kGaussian, 0.5, 99}, whole);
  for (int parts : {2, 3, 4, 7, 64}) {
    std::vector<double> W, A;
    for (int p = 0; p < parts; ++p) {
      Params<double> shard;
      shard.neurons = shard_range(s.m, parts, p);
      init_params(s, InitSpec{InitKind::kGaussian, 0.5, 99}, shard);
      W.insert(W.end(), shard.W.begin(), shard.W.end());
      A.insert(A.end(), shard.A.begin(), shard.A.end());
    }
    EXPECT_EQ(W, whole.W) << parts;
    EXPECT_EQ(A, whole.A) << parts;
  }
}

TEST(Init, GaussianMomentsAndSigns) {
  const Shape s{20000, 10, 1, Activation::kSoftmax, Scale::kM};
  Params<double> p;
  p.neurons = {0, s.m};
  init_params(s, InitSpec{InitKind::kGaussian, 2.0, 5}, p);
  double mean = 0, var = 0;
  for (double w : p.W) mean += w;
  mean /= p.W.size();
  for (double w : p.W) var += (w - mean) * (w - mean);
  var /= p.W.size();
  // 2e5 draws: standard error of the mean 2/sqrt(2e5) = 0.0045, of the variance ~ 4*sqrt(2/2e5).
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(var, 4.0, 0.05);
  int plus = 0;
  for (double a : p.A) {
    ASSERT_TRUE(a == 1.0 || a == -1.0);
    plus += a > 0;
  }
  EXPECT_NEAR(plus / 20000.0, 0.5, 0.02);
}

TEST(Init, SymmetricGivesZeroOutput) {
  const Shape s{256, 5, 2, Activation::kSoftmax, Scale::kM};
  Params<double> p;
  p.neurons = {0, s.m};
  init_params(s, InitSpec{InitKind::kSymmetric, 1.0, 3}, p);
  for (std::int64_t r = 0; r < s.m; r += 2) {
    for (int j = 0; j < 5; ++j) ASSERT_EQ(p.W[r * 5 + j], p.W[(r + 1) * 5 + j]);
    for (int k = 0; k < 2; ++k) ASSERT_EQ(p.A[r * 2 + k], -p.A[(r + 1) * 2 + k]);
  }
  const std::int64_t n = 4;
  std::vector<double> X(n * 5);
  for (std::size_t q = 0; q < X.size(); ++q) X[q] = std::sin(1.0 + q);
  widemax::ref::RefNet net{s.m, 5, 2, 0, static_cast<long double>(s.m), p.W, p.A};
  const auto F = widemax::ref::ref_forward(net, X, n);
  for (auto f : F) EXPECT_NEAR(static_cast<double>(f), 0.0, 1e-9);
}

TEST(Init, SymmetricNeedsEvenWidth) {
  const Shape s{7, 2, 1, Activation::kSoftmax, Scale::kM};
  Params<double> p;
  p.neurons = {0, 7};
  EXPECT_THROW(init_params(s, InitSpec{InitKind::kSymmetric, 1.0, 0}, p), widemax::Error);
}

// --seed-scope width (the default): networks of different widths share no draws. Oracle: the
// correlation of neuron r's weights between widths m and 2m is that of independent normals, whose
// standard error is 1/sqrt(N); nested: the narrower network is exactly the prefix of the wider.
TEST(Init, WidthScopeDrawsEveryWidthIndependently) {
  const std::int64_t m = 4096, d = 8;
  auto draw = [&](std::int64_t width, SeedScope scope) {
    const Shape s{width, d, 1, Activation::kSoftmax, Scale::kM};
    Params<double> p;
    p.neurons = {0, width};
    init_params(s, InitSpec{InitKind::kGaussian, 1.0, 7, scope}, p);
    return p;
  };
  const auto narrow = draw(m, SeedScope::kWidth), wide = draw(2 * m, SeedScope::kWidth);
  double sab = 0, saa = 0, sbb = 0;
  int same_sign = 0;
  for (std::int64_t q = 0; q < m * d; ++q) {
    sab += narrow.W[q] * wide.W[q];
    saa += narrow.W[q] * narrow.W[q];
    sbb += wide.W[q] * wide.W[q];
  }
  for (std::int64_t r = 0; r < m; ++r) same_sign += narrow.A[r] == wide.A[r];
  const double corr = sab / std::sqrt(saa * sbb), n = static_cast<double>(m * d);
  EXPECT_LT(std::abs(corr), 5.0 / std::sqrt(n)) << corr;
  EXPECT_NEAR(same_sign / static_cast<double>(m), 0.5, 5 * 0.5 / std::sqrt(m));
  // The same width and seed give the same draws; another seed others.
  EXPECT_EQ(draw(m, SeedScope::kWidth).W, narrow.W);
  const auto nested = draw(m, SeedScope::kNested), nested_wide = draw(2 * m, SeedScope::kNested);
  EXPECT_TRUE(std::equal(nested.W.begin(), nested.W.end(), nested_wide.W.begin()));
  EXPECT_TRUE(std::equal(nested.A.begin(), nested.A.end(), nested_wide.A.begin()));
  EXPECT_NE(nested.W, narrow.W);
}

TEST(Init, WidthScopeShardsConcatenateToTheWhole) {
  const Shape s{1002, 5, 2, Activation::kSoftmax, Scale::kSqrtM};
  for (InitKind kind : {InitKind::kGaussian, InitKind::kSymmetric}) {
    const InitSpec spec{kind, 0.7, 11, SeedScope::kWidth};
    Params<double> whole;
    whole.neurons = {0, s.m};
    init_params(s, spec, whole);
    for (int parts : {2, 3, 5}) {
      std::vector<double> W, A;
      for (int p = 0; p < parts; ++p) {
        Params<double> shard;
        shard.neurons = shard_range(s.m, parts, p);
        init_params(s, spec, shard);
        W.insert(W.end(), shard.W.begin(), shard.W.end());
        A.insert(A.end(), shard.A.begin(), shard.A.end());
      }
      EXPECT_EQ(W, whole.W) << parts;
      EXPECT_EQ(A, whole.A) << parts;
    }
  }
}

TEST(Init, SeedScopeNames) {
  EXPECT_EQ(parse_seed_scope("width"), SeedScope::kWidth);
  EXPECT_EQ(parse_seed_scope("nested"), SeedScope::kNested);
  EXPECT_THROW(parse_seed_scope("global"), widemax::Error);
}
