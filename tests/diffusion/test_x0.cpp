// The x0 parametrisation (docs/design.md §1.3):
//   - the score from an x_0 prediction, s = (e^{-t} F - x) / sigma_t^2, fed with the exact
//     denoiser of a single Gaussian N(mu, S) (E[x_0 | x_t] = mu + e^{-t} S C^{-1} (x - e^{-t} mu),
//     C = e^{-2t} S + sigma_t^2 I, written out here with a 2x2 inverse) is the closed-form score
//     -C^{-1} (x - e^{-t} mu) and the mixture module's score of the same Gaussian;
//   - the zero network's scores: -x / sigma_t^2 (x0) and the baseline's s_b (eps);
//   - x0 rows: inputs c [x_t, t] with the targets x_0, the same as the samplers' network_inputs,
//     and the input scale c bounds the norm of every training input by 1 and is attained;
//   - the score error's zero-network sums per bucket against a direct sum.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "widemax/diffusion/dsm.hpp"
#include "widemax/diffusion/metrics.hpp"
#include "widemax/diffusion/mixture.hpp"

using namespace widemax::diffusion;

namespace {

constexpr double kMu[2] = {0.7, -0.4};
constexpr double kS[4] = {0.5, 0.2, 0.2, 0.3};

// C^{-1} of C = a^2 S + s^2 I, by the 2x2 adjugate.
void c_inverse(double t, double Ci[4]) {
  const double a = std::exp(-t), s2 = 1 - std::exp(-2 * t);
  const double c00 = a * a * kS[0] + s2, c01 = a * a * kS[1], c11 = a * a * kS[3] + s2;
  const double det = c00 * c11 - c01 * c01;
  Ci[0] = c11 / det;
  Ci[1] = Ci[2] = -c01 / det;
  Ci[3] = c00 / det;
}

}  // namespace

TEST(X0, ScoreFromTheExactDenoiserIsTheClosedFormScore) {
  const Mixture g = make_mixture({1.0}, {kMu[0], kMu[1]}, {kS[0], kS[1], kS[2], kS[3]}, 1, 2, "g");
  for (const double t : {1e-3, 0.05, 0.4, 1.3, 4.0}) {
    for (const auto& x : {std::vector<double>{0.3, 0.1}, std::vector<double>{-1.2, 0.8},
                          std::vector<double>{2.5, -1.9}}) {
      const double a = std::exp(-t);
      double Ci[4];
      c_inverse(t, Ci);
      const double y[2] = {x[0] - a * kMu[0], x[1] - a * kMu[1]};
      const double Ciy[2] = {Ci[0] * y[0] + Ci[1] * y[1], Ci[2] * y[0] + Ci[3] * y[1]};
      // Tweedie's denoiser of the Gaussian: mu + a S C^{-1} y.
      const double f[2] = {kMu[0] + a * (kS[0] * Ciy[0] + kS[1] * Ciy[1]),
                           kMu[1] + a * (kS[2] * Ciy[0] + kS[3] * Ciy[1])};
      double s[2], ref[2];
      model_score(Parametrisation::kX0, x.data(), f, nullptr, 2, t, s);
      score(g, x.data(), &t, 1, ref);
      for (int j = 0; j < 2; ++j) {
        const double closed = -Ciy[j];
        const double tol = 1e-9 * (1 + std::abs(closed));
        EXPECT_NEAR(s[j], closed, tol) << "t " << t << " j " << j;
        EXPECT_NEAR(ref[j], closed, tol) << "t " << t << " j " << j;
      }
    }
  }
}

TEST(X0, ZeroNetworkScores) {
  const double x[3] = {0.4, -1.1, 2.0}, zero[3] = {0, 0, 0}, sb[3] = {0.3, 0.2, -0.7};
  for (const double t : {0.01, 0.7, 3.0}) {
    const double s2 = 1 - std::exp(-2 * t);
    double s[3];
    model_score(Parametrisation::kX0, x, zero, sb, 3, t, s);  // x0 ignores the baseline
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(s[j], -x[j] / s2, 1e-13 * std::abs(x[j] / s2));
    model_score(Parametrisation::kEps, x, zero, sb, 3, t, s);
    for (int j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(s[j], sb[j]);
    model_score(Parametrisation::kEps, x, zero, nullptr, 3, t, s);
    for (int j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(s[j], 0.0);
  }
}

TEST(X0, RowsAreScaledNoisedPointsWithTargetX0AndBoundedNorm) {
  const Mixture mix = load_mixture("ring8", 1);
  const TimeSampler times = make_time_sampler(1e-3, 5.0, TimeSampling::kLog);
  const TimeFeatures features("raw-t", 5.0);
  const DsmDraws raw(&mix, nullptr, 2, times, features, 11);
  const std::int64_t n = 3000, d = 2, w = 3;
  const double c = x0_input_scale(raw, n);
  ASSERT_GT(c, 0);
  const DsmDraws draws(&mix, nullptr, 2, times, features, 11, nullptr, Parametrisation::kX0, c);
  ASSERT_EQ(draws.input_dim(), w);
  std::vector<double> X(n * w), Y(n * d), t(n), x0(n * d), eps(n * d), xt(n * d);
  draws.fill(0, n, X.data(), Y.data(), t.data(), x0.data(), eps.data(), xt.data());
  double max_norm = 0;
  for (std::int64_t q = 0; q < n; ++q) {
    const double a = std::exp(-t[q]), s = std::sqrt(1 - std::exp(-2 * t[q]));
    double sq = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      EXPECT_EQ(Y[q * d + j], x0[q * d + j]);
      EXPECT_NEAR(xt[q * d + j], a * x0[q * d + j] + s * eps[q * d + j], 1e-12);
      EXPECT_NEAR(X[q * w + j], c * xt[q * d + j], 1e-12);
    }
    EXPECT_NEAR(X[q * w + d], c * t[q], 1e-12);
    for (std::int64_t j = 0; j < w; ++j) sq += X[q * w + j] * X[q * w + j];
    max_norm = std::max(max_norm, std::sqrt(sq));
  }
  // The samplers' inputs at (x_t, t) are the training rows' at the same (x_t, t).
  for (std::int64_t q = 0; q < 5; ++q) {
    double in[3];
    network_inputs(xt.data() + q * d, 1, d, t[q], features, in, c);
    for (std::int64_t j = 0; j < w; ++j) EXPECT_NEAR(in[j], X[q * w + j], 1e-15) << q << " " << j;
  }
  EXPECT_LE(max_norm, 1 + 1e-12);
  EXPECT_GT(max_norm, 1 - 1e-12);  // the bound is attained: c is not needlessly small
  // Rows beyond the training set may exceed 1; rows of the set are what c is computed from.
  EXPECT_THROW(DsmDraws(&mix, nullptr, 2, times, features, 11, &mix, Parametrisation::kX0, c),
               std::exception);
}

TEST(X0, ZeroNetworkErrorSumsPerBucket) {
  const TimeSampler times = make_time_sampler(0.1, 2.1, TimeSampling::kUniform);
  ScoreError se(2, times);
  // Bucket 0 is t < 1.1, bucket 1 the rest.
  const double st[2] = {1.0, -2.0}, s[2] = {1.5, -2.0}, z1[2] = {0.0, 0.0}, z2[2] = {1.0, 1.0};
  se.add(0.5, s, st, 2, z1);  // zero error 5
  se.add(0.9, s, st, 2, z2);  // zero error 9
  se.add(1.5, s, st, 2, z2);
  EXPECT_DOUBLE_EQ(se.zero_rel_error(0), (5.0 + 9.0) / 10.0);
  EXPECT_DOUBLE_EQ(se.zero_rel_error(1), 9.0 / 5.0);
  EXPECT_DOUBLE_EQ(se.zero_rel_error(), 23.0 / 15.0);
  EXPECT_DOUBLE_EQ(se.rel_error(0), 0.5 / 10.0);
  const auto j = se.by_time();
  EXPECT_DOUBLE_EQ(j[1]["zero_network_rel_error"].get<double>(), 9.0 / 5.0);
}
