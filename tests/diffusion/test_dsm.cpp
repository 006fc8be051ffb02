// Denoising score matching rows and metrics:
//   - the gradient that training uses (the kernels on DSM rows, loss 1/2 ||F - target||^2)
//     against central finite differences of the DSM loss written in score form, docs/design.md
//     §1.3's 1/2 sum_i sigma_i^2 ||s(x_i, t_i) + eps_i / sigma_i||^2 with s = s_b - F / sigma,
//     evaluated with the naive long-double reference network, without and with a Gaussian baseline
//     s_b;
//   - the rows themselves: x_t = e^{-t} x_0 + sigma_t eps, the target eps + sigma_t s_b, phi(t)
//     against closed forms;
//   - the time sampler's quantile and cdf, and the time features' refusals;
//   - W_2 of sorted samples against a brute-force coupling of replicated points, and the sliced
//     Wasserstein distance of a shifted set against its closed form ||v|| / sqrt(d).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "reference.hpp"
#include "widemax/core/error.hpp"
#include "widemax/diffusion/dsm.hpp"
#include "widemax/diffusion/metrics.hpp"
#include "widemax/diffusion/mixture.hpp"
#include "widemax/model/kernels.hpp"

using namespace widemax::diffusion;
namespace model = widemax::model;

namespace {

// An isotropic Gaussian baseline N(m, v I): its score at time t is
// -(x - e^{-t} m) / (e^{-2t} v + sigma_t^2), written out here independently of mixture.cpp.
constexpr double kBaseMean[2] = {0.3, -0.2}, kBaseVar = 1.7;

Mixture isotropic_baseline() {
  return make_mixture({1.0}, {kBaseMean[0], kBaseMean[1]}, {kBaseVar, 0.0, 0.0, kBaseVar}, 1, 2,
                      "baseline");
}

std::vector<long double> baseline_score(const double* x, long double t) {
  const long double a = std::exp(-t), v = a * a * kBaseVar + 1 - a * a;
  return {-(x[0] - a * kBaseMean[0]) / v, -(x[1] - a * kBaseMean[1]) / v};
}

void check_dsm_gradient(const Mixture* baseline) {
  const Mixture mix = load_mixture("ring8", 1);
  const TimeSampler times = make_time_sampler(0.01, 3.0, TimeSampling::kUniform);
  const TimeFeatures features("one,t,log-sigma,fourier:1", 3.0);
  const DsmDraws draws(&mix, nullptr, 2, times, features, 5, baseline);
  const std::int64_t n = 6, din = draws.input_dim(), d = 2, m = 41;
  ASSERT_EQ(din, 2 + 5);
  std::vector<double> X(n * din), Y(n * d), t(n), eps(n * d);
  draws.fill(100, n, X.data(), Y.data(), t.data(), nullptr, eps.data());

  for (const auto scale : {model::Scale::kSqrtM, model::Scale::kM}) {
    model::Shape s{m, din, d, model::Activation::kSoftmax, scale};
    model::Params<double> p;
    p.neurons = {0, m};
    model::init_params(s, model::InitSpec{model::InitKind::kGaussian, 0.8, 3}, p);
    // The training gradient: what Trainer::compute_gradient does on one shard, on the targets Y.
    model::Workspace<double> ws(n, 16, d, 1);
    std::vector<double> part(n * s.record_width()), F(n * d), R(n * d), rf(n, 0.0), gW(m * din);
    model::forward_partial(s, {n, m, X.data(), p.W.data(), p.A.data(), part.data()}, ws);
    model::finalize_output(s, n, part.data(), F.data());
    for (std::int64_t i = 0; i < n * d; ++i) {
      R[i] = F[i] - Y[i];
      rf[i / d] += R[i] * F[i];
    }
    model::backward(
        s, {n, m, X.data(), p.W.data(), p.A.data(), part.data(), R.data(), rf.data(), gW.data()},
        ws);

    // The DSM loss in score form, s = s_b - F / sigma, from the reference network and the noise
    // eps itself (not the targets).
    widemax::ref::RefNet net{m,   din, d, 0, static_cast<long double>(model::output_scale(s)),
                             p.W, p.A};
    auto dsm_loss = [&]() {
      const auto Fr = widemax::ref::ref_forward(net, X, n);
      long double L = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        const long double sig = std::sqrt(-std::expm1(-2.0L * t[i]));
        const auto sb = baseline_score(X.data() + i * din, t[i]);
        for (std::int64_t j = 0; j < d; ++j) {
          const long double score = (baseline ? sb[j] : 0.0L) - Fr[i * d + j] / sig;
          const long double r = score + eps[i * d + j] / sig;
          L += 0.5L * sig * sig * r * r;
        }
      }
      return L;
    };
    std::vector<double> fd(gW.size());
    for (std::size_t q = 0; q < fd.size(); ++q) {
      const double w0 = net.W[q], h = 1e-5;
      net.W[q] = w0 + h;
      const long double up = dsm_loss();
      net.W[q] = w0 - h;
      const long double dn = dsm_loss();
      net.W[q] = w0;
      fd[q] = static_cast<double>((up - dn) / (2 * h));
    }
    EXPECT_LT(widemax::ref::rel_diff(gW, fd), 1e-6)
        << model::to_string(scale) << (baseline ? " with baseline" : "");
  }
}

}  // namespace

TEST(Dsm, TrainingGradientIsTheGradientOfTheWeightedDsmLoss) {
  check_dsm_gradient(nullptr);
  const Mixture base = isotropic_baseline();
  check_dsm_gradient(&base);
}

TEST(Dsm, RowsAreNoisedPointsWithTheirTimeFeatures) {
  const Mixture mix = load_mixture("random:3:4", 2);
  const TimeSampler times = make_time_sampler(1e-3, 5.0, TimeSampling::kLog);
  const TimeFeatures features("one,t,sigma,log-sigma,alpha,fourier:2", 5.0);
  ASSERT_EQ(features.size(), 9);
  const DsmDraws draws(&mix, nullptr, 4, times, features, 9);
  const std::int64_t n = 50, din = draws.input_dim();
  std::vector<double> X(n * din), Y(n * 4), t(n), x0(n * 4);
  draws.fill(7, n, X.data(), Y.data(), t.data(), x0.data());
  std::vector<double> x(4);
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_GE(t[i], 1e-3);
    ASSERT_LE(t[i], 5.0);
    sample_mixture(mix, 9, 7 + i, x.data());  // row q starts from mixture sample q
    const double a = std::exp(-t[i]), s = std::sqrt(1 - std::exp(-2 * t[i]));
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(x0[i * 4 + j], x[j]);
      EXPECT_NEAR(X[i * din + j], a * x[j] + s * Y[i * 4 + j], 1e-12);
    }
    const double* phi = X.data() + i * din + 4;
    const double expect[9] = {1.0,
                              t[i] / 5.0,
                              s,
                              std::log(s),
                              a,
                              std::cos(std::numbers::pi * t[i] / 5),
                              std::sin(std::numbers::pi * t[i] / 5),
                              std::cos(2 * std::numbers::pi * t[i] / 5),
                              std::sin(2 * std::numbers::pi * t[i] / 5)};
    for (int j = 0; j < 9; ++j) EXPECT_NEAR(phi[j], expect[j], 1e-12) << j;
  }
  // With a baseline the target is eps + sigma_t s_b(x_t, t).
  const Mixture base = isotropic_baseline();
  const Mixture ring = load_mixture("ring8", 1);
  const DsmDraws with_base(&ring, nullptr, 2, times, TimeFeatures("one", 5.0), 9, &base);
  std::vector<double> Xb(8 * 3), Yb(8 * 2), tb(8), eb(8 * 2);
  with_base.fill(0, 8, Xb.data(), Yb.data(), tb.data(), nullptr, eb.data());
  for (int i = 0; i < 8; ++i) {
    const auto sb = baseline_score(Xb.data() + i * 3, tb[i]);
    const double s = std::sqrt(1 - std::exp(-2 * tb[i]));
    for (int j = 0; j < 2; ++j)
      EXPECT_NEAR(Yb[i * 2 + j], eb[i * 2 + j] + s * static_cast<double>(sb[j]), 1e-12);
  }

  // The same rows whatever the range they are drawn in (what makes the run grid-independent).
  std::vector<double> X2(din), Y2(4), t2(1);
  draws.fill(7 + 13, 1, X2.data(), Y2.data(), t2.data());
  EXPECT_TRUE(std::equal(X2.begin(), X2.end(), X.begin() + 13 * din));

  // Points instead of a mixture: every x_0 is one of them.
  const std::vector<double> pts = {1, 2, 3, 4, -1, -2, -3, -4};
  const DsmDraws from_points(nullptr, &pts, 4, times, TimeFeatures("one", 5.0), 3);
  std::vector<double> Xp(20 * 5), Yp(20 * 4), tp(20), x0p(20 * 4);
  from_points.fill(0, 20, Xp.data(), Yp.data(), tp.data(), x0p.data());
  int firsts = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(std::abs(x0p[i * 4]) == 1.0) << x0p[i * 4];
    firsts += x0p[i * 4] == 1.0;
    EXPECT_EQ(x0p[i * 4 + 3], 4 * x0p[i * 4]);
  }
  EXPECT_GT(firsts, 0);
  EXPECT_LT(firsts, 20);
}

TEST(Dsm, TimeSamplerQuantileAndCdf) {
  for (const char* kind : {"uniform", "log"}) {
    const TimeSampler ts = make_time_sampler(0.002, 4.0, parse_time_sampling(kind));
    EXPECT_NEAR(ts.quantile(0.0), 0.002, 1e-15);
    EXPECT_NEAR(ts.quantile(1.0), 4.0, 1e-12);
    for (const double u : {0.1, 0.37, 0.5, 0.93}) EXPECT_NEAR(ts.cdf(ts.quantile(u)), u, 1e-12);
  }
  EXPECT_NEAR(make_time_sampler(0.01, 1.0, TimeSampling::kLog).quantile(0.5), 0.1,
              1e-15);  // geometric mean
  EXPECT_NEAR(make_time_sampler(0.5, 1.5, TimeSampling::kUniform).quantile(0.25), 0.75, 1e-15);
}

TEST(Dsm, BadTimeSettingsAreRefused) {
  auto message = [](auto f) {
    try {
      f();
    } catch (const widemax::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message([] {
              make_time_sampler(1.0, 1.0, TimeSampling::kUniform);
            }).find("--t-min 1 must be below --t-max 1"),
            std::string::npos);
  EXPECT_NE(message([] {
              make_time_sampler(0.0, 1.0, TimeSampling::kUniform);
            }).find("--t-min must be positive"),
            std::string::npos);
  EXPECT_NE(message([] { parse_time_sampling("cubic"); }).find("unknown distribution"),
            std::string::npos);
  EXPECT_NE(message([] { TimeFeatures("one,tau", 1.0); }).find("unknown feature 'tau'"),
            std::string::npos);
  EXPECT_NE(message([] { TimeFeatures("fourier:0", 1.0); }).find("K must be a whole number"),
            std::string::npos);
  EXPECT_NE(message([] { TimeFeatures("one,,t", 1.0); }).find("empty item"), std::string::npos);
}

// W_2^2 of uniform empirical measures of sizes n and m equals that of the same measures with
// every point repeated m (resp. n) times, where the optimal coupling of equal-size sets in 1-D
// pairs the sorted points.
TEST(Metrics, W2OfSortedSamplesMatchesReplicatedCoupling) {
  const std::vector<std::pair<std::vector<double>, std::vector<double>>> cases = {
      {{0.0, 1.0, 5.0}, {0.5, 0.7, 2.0}},
      {{-1.0, 3.0}, {0.0, 0.1, 0.2}},
      {{2.0}, {-1.0, 0.0, 1.0, 4.0}},
      {{0.1, 0.2, 0.3, 0.4, 0.9, 1.5}, {-0.3, 0.8, 2.2, 2.5}}};
  for (const auto& [a, b] : cases) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<double> ra, rb;
    for (double v : a) ra.insert(ra.end(), m, v);
    for (double v : b) rb.insert(rb.end(), n, v);
    double brute = 0;
    for (std::size_t q = 0; q < ra.size(); ++q) brute += (ra[q] - rb[q]) * (ra[q] - rb[q]);
    brute /= static_cast<double>(ra.size());
    EXPECT_NEAR(w2_squared_sorted(a, b), brute, 1e-14);
  }
}

// A set against itself shifted by v: every projection is shifted by theta.v, so W_2^2 = (theta.v)^2
// and SW_2^2 = E (theta.v)^2 = ||v||^2 / d (within 5% for 4000 random directions).
TEST(Metrics, SlicedWassersteinOfAShift) {
  const std::int64_t n = 300, d = 3;
  std::vector<double> A(n * d), B(n * d);
  const double v[3] = {0.6, -0.3, 1.2};
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j) {
      A[i * d + j] = std::sin(0.37 * i + j) * (1 + j);
      B[i * d + j] = A[i * d + j] + v[j];
    }
  const double expect = std::sqrt((0.36 + 0.09 + 1.44) / 3);
  EXPECT_NEAR(sliced_wasserstein(A.data(), n, B.data(), n, d, 4000, 11), expect, 0.05 * expect);
  EXPECT_EQ(sliced_wasserstein(A.data(), n, A.data(), n, d, 50, 11), 0.0);
}

TEST(Metrics, ScoreErrorSumsAndBuckets) {
  const TimeSampler ts = make_time_sampler(0.0001, 1.0, TimeSampling::kLog);
  ScoreError se(4, ts);
  EXPECT_EQ(se.bucket_of(0.0001), 0);
  EXPECT_EQ(se.bucket_of(0.5), 3);
  EXPECT_EQ(se.bucket_of(0.0011), 1);  // log10 edges -4, -3, -2, -1, 0
  const double s1[2] = {1, 0}, s1_true[2] = {0, 2};
  const double s2[2] = {3, 4}, s2_true[2] = {3, 3};
  se.add(0.0005, s1, s1_true, 2);  // error 1 + 4 = 5, true 4
  se.add(0.5, s2, s2_true, 2);     // error 1, true 18
  se.add_dsm(2.0);
  se.add_dsm(4.0);
  EXPECT_DOUBLE_EQ(se.rel_error(), 6.0 / 22.0);
  EXPECT_DOUBLE_EQ(se.rel_error(0), 5.0 / 4.0);
  EXPECT_DOUBLE_EQ(se.rel_error(3), 1.0 / 18.0);
  EXPECT_TRUE(std::isnan(se.rel_error(1)));
  EXPECT_DOUBLE_EQ(se.mean_dsm_loss(), 1.5);
  EXPECT_NEAR(se.bucket_lo(1), 0.001, 1e-15);
  EXPECT_NEAR(se.bucket_hi(2), 0.1, 1e-15);
  // The paper's weighting lambda(t) = sigma_t^4 e^{2t} = (e^t - e^-t)^2 = 4 sinh(t)^2, written
  // independently of dsm_weight's form.
  const double l1 = 4 * std::sinh(0.0005) * std::sinh(0.0005),
               l2 = 4 * std::sinh(0.5) * std::sinh(0.5);
  EXPECT_NEAR(ScoreError::dsm_weight(0.5), l2, 1e-14);
  EXPECT_NEAR(se.weighted_error(), (5 * l1 + 1 * l2) / 2, 1e-14);
  EXPECT_NEAR(se.weighted_rel_error(), (5 * l1 + 1 * l2) / (4 * l1 + 18 * l2), 1e-14);
  // No zero-network scores were given: its error is ||s_true||^2 counted as 0 here.
  EXPECT_DOUBLE_EQ(se.zero_weighted_rel_error(), 0.0);
}
