// The Gaussian mixture of `widemax diffusion`: its closed-form score of p_t against central finite
// differences of an independent log-density (long double, each Sigma_k(t) = e^{-2t} S_k +
// sigma_t^2 I inverted by Gauss-Jordan elimination in this file, no eigendecomposition); its
// log-density against the same; sample moments against the closed-form mean and covariance;
// and the refusals of bad mixtures, each naming the file or option.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "widemax/core/error.hpp"
#include "widemax/diffusion/mixture.hpp"

using namespace widemax::diffusion;

namespace {

using LD = long double;

// log p_t(x), naively: for each component the covariance at t, its inverse and determinant by
// Gauss-Jordan elimination with partial pivoting, then log-sum-exp.
LD naive_log_density(const Mixture& mix, const std::vector<LD>& x, LD t) {
  const std::int64_t d = mix.d;
  const LD a = std::exp(-t), s2 = 1 - std::exp(-2 * t);
  std::vector<LD> logs;
  for (std::int64_t k = 0; k < mix.K; ++k) {
    std::vector<LD> M(d * 2 * d, 0);  // [Sigma | I]
    for (std::int64_t i = 0; i < d; ++i) {
      for (std::int64_t j = 0; j < d; ++j)
        M[i * 2 * d + j] = a * a * mix.covs[(k * d + i) * d + j] + (i == j ? s2 : 0);
      M[i * 2 * d + d + i] = 1;
    }
    LD logdet = 0;
    for (std::int64_t c = 0; c < d; ++c) {
      std::int64_t piv = c;
      for (std::int64_t r = c + 1; r < d; ++r)
        if (std::abs(M[r * 2 * d + c]) > std::abs(M[piv * 2 * d + c])) piv = r;
      for (std::int64_t j = 0; j < 2 * d; ++j) std::swap(M[c * 2 * d + j], M[piv * 2 * d + j]);
      const LD p = M[c * 2 * d + c];
      logdet += std::log(std::abs(p));
      for (std::int64_t j = 0; j < 2 * d; ++j) M[c * 2 * d + j] /= p;
      for (std::int64_t r = 0; r < d; ++r) {
        if (r == c) continue;
        const LD f = M[r * 2 * d + c];
        for (std::int64_t j = 0; j < 2 * d; ++j) M[r * 2 * d + j] -= f * M[c * 2 * d + j];
      }
    }
    LD quad = 0;
    for (std::int64_t i = 0; i < d; ++i)
      for (std::int64_t j = 0; j < d; ++j)
        quad += (x[i] - a * mix.means[k * d + i]) * M[i * 2 * d + d + j] *
                (x[j] - a * mix.means[k * d + j]);
    logs.push_back(std::log(static_cast<LD>(mix.weights[k])) - quad / 2 - logdet / 2 -
                   d * std::log(2 * std::numbers::pi_v<LD>) / 2);
  }
  LD top = logs[0];
  for (LD v : logs) top = std::max(top, v);
  LD s = 0;
  for (LD v : logs) s += std::exp(v - top);
  return top + std::log(s);
}

// A 3-D mixture with correlated, anisotropic covariances, written as JSON (the file format).
Mixture anisotropic_mixture() {
  return mixture_from_json(R"({
    "weights": [0.5, 0.3, 0.2],
    "means": [[1.0, -0.5, 0.2], [-1.5, 0.8, 0.0], [0.3, 1.2, -1.1]],
    "covariances": [
      [[0.30, 0.10, 0.00], [0.10, 0.20, 0.05], [0.00, 0.05, 0.10]],
      [[0.05, 0.00, 0.00], [0.00, 0.50, -0.20], [0.00, -0.20, 0.40]],
      [[1.00, 0.30, 0.20], [0.30, 0.60, 0.10], [0.20, 0.10, 0.20]]]})",
                           "test mixture");
}

void expect_score_matches_fd(const Mixture& mix, const char* name) {
  const std::int64_t d = mix.d;
  for (const double t : {0.0, 0.003, 0.05, 0.4, 2.0}) {
    for (int p = 0; p < 12; ++p) {
      // Points near the components, between them and far out.
      std::vector<double> x(d);
      for (std::int64_t j = 0; j < d; ++j)
        x[j] = std::exp(-t) * mix.means[(p % mix.K) * d + j] + (p < 4   ? 0.1
                                                                : p < 8 ? 0.7
                                                                        : 3.0) *
                                                                   std::sin(1.7 * p + 2.3 * j);
      std::vector<double> s(d);
      score(mix, x.data(), &t, 1, s.data());
      std::vector<LD> xl(x.begin(), x.end());
      double norm = 0, err = 0;
      for (std::int64_t j = 0; j < d; ++j) {
        const LD h = 1e-5L;
        xl[j] = x[j] + h;
        const LD up = naive_log_density(mix, xl, t);
        xl[j] = x[j] - h;
        const LD dn = naive_log_density(mix, xl, t);
        xl[j] = x[j];
        const double fd = static_cast<double>((up - dn) / (2 * h));
        err += (s[j] - fd) * (s[j] - fd);
        norm += fd * fd;
      }
      EXPECT_LE(std::sqrt(err), 1e-6 * std::max(1.0, std::sqrt(norm)))
          << name << " t=" << t << " point " << p;
      const double ld = log_density(mix, x.data(), t);
      EXPECT_NEAR(ld, static_cast<double>(naive_log_density(mix, xl, t)),
                  1e-9 * std::max(1.0, std::abs(ld)))
          << name << " t=" << t << " point " << p;
    }
  }
}

std::string error_of(const std::string& json) {
  try {
    mixture_from_json(json, "bad.json");
  } catch (const widemax::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string preset_error(const std::string& spec) {
  try {
    load_mixture(spec, 1);
  } catch (const widemax::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Mixture, ScoreIsTheGradientOfTheLogDensity) {
  expect_score_matches_fd(anisotropic_mixture(), "anisotropic 3-D");
  expect_score_matches_fd(load_mixture("ring8", 1), "ring8");
  expect_score_matches_fd(load_mixture("random:4:5", 7), "random:4:5");
}

TEST(Mixture, ForwardProcessCoefficients) {
  for (const double t : {1e-6, 0.01, 1.0, 7.0}) {
    EXPECT_NEAR(ou_alpha(t), std::exp(-t), 1e-15);
    EXPECT_NEAR(ou_sigma(t) * ou_sigma(t) + ou_alpha(t) * ou_alpha(t), 1.0, 1e-14);
  }
  // No cancellation at small t: sigma^2 = 2t - 2t^2 + O(t^3), to 1e-14 relative.
  EXPECT_NEAR(ou_sigma(1e-8), std::sqrt(2e-8 - 2e-16), 1e-18);
}

// Sample moments against the closed form: mean sum_k pi_k mu_k, covariance
// sum_k pi_k (S_k + mu_k mu_k^T) - mean mean^T. 200000 samples; tolerance 6 standard errors.
TEST(Mixture, SamplesHaveTheMixtureMoments) {
  const Mixture mix = anisotropic_mixture();
  const std::int64_t d = mix.d, n = 200000;
  std::vector<double> mean(d, 0), second(d * d, 0), x(d);
  std::vector<double> counts(mix.K, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    counts[sample_mixture(mix, 42, static_cast<std::uint64_t>(i), x.data())] += 1;
    for (std::int64_t a = 0; a < d; ++a) {
      mean[a] += x[a] / n;
      for (std::int64_t b = 0; b < d; ++b) second[a * d + b] += x[a] * x[b] / n;
    }
  }
  std::vector<double> mu(d, 0), cov(d * d, 0);
  for (std::int64_t k = 0; k < mix.K; ++k) {
    EXPECT_NEAR(counts[k] / n, mix.weights[k],
                6 * std::sqrt(mix.weights[k] * (1 - mix.weights[k]) / n));
    for (std::int64_t a = 0; a < d; ++a) {
      mu[a] += mix.weights[k] * mix.means[k * d + a];
      for (std::int64_t b = 0; b < d; ++b)
        cov[a * d + b] += mix.weights[k] * (mix.covs[(k * d + a) * d + b] +
                                            mix.means[k * d + a] * mix.means[k * d + b]);
    }
  }
  for (std::int64_t a = 0; a < d; ++a)
    for (std::int64_t b = 0; b < d; ++b) cov[a * d + b] -= mu[a] * mu[b];
  // The Gaussian fit has exactly these moments.
  const Mixture fit = gaussian_fit(mix);
  ASSERT_EQ(fit.K, 1);
  for (std::int64_t a = 0; a < d; ++a) {
    EXPECT_NEAR(fit.means[a], mu[a], 1e-14);
    for (std::int64_t b = 0; b < d; ++b) EXPECT_NEAR(fit.covs[a * d + b], cov[a * d + b], 1e-14);
  }
  for (std::int64_t a = 0; a < d; ++a) {
    EXPECT_NEAR(mean[a], mu[a], 6 * std::sqrt(cov[a * d + a] / n)) << a;
    for (std::int64_t b = 0; b < d; ++b) {
      const double emp = second[a * d + b] - mean[a] * mean[b];
      // Var of x_a x_b is at most sqrt(E x_a^4 E x_b^4); 3 (var + mean^2)^2 bounds E x^4 loosely.
      const double va = cov[a * d + a] + mu[a] * mu[a], vb = cov[b * d + b] + mu[b] * mu[b];
      EXPECT_NEAR(emp, cov[a * d + b], 6 * std::sqrt(3 * va * vb / n)) << a << "," << b;
    }
  }
  // Pure function of (seed, index).
  std::vector<double> y(d);
  sample_mixture(mix, 42, 17, x.data());
  sample_mixture(mix, 42, 17, y.data());
  EXPECT_EQ(x, y);
}

TEST(Mixture, GaussianFitOfPoints) {
  const std::vector<double> pts = {0, 0, 2, 0, 0, 4, 2, 4};  // mean (1, 2), variances 1 and 4
  const Mixture fit = gaussian_fit(pts, 2);
  EXPECT_NEAR(fit.means[0], 1.0, 1e-15);
  EXPECT_NEAR(fit.means[1], 2.0, 1e-15);
  EXPECT_NEAR(fit.covs[0], 1.0, 1e-8);
  EXPECT_NEAR(fit.covs[1], 0.0, 1e-15);
  EXPECT_NEAR(fit.covs[3], 4.0, 1e-8);
  // Collinear points: a singular sample covariance, still a usable (positive definite) fit.
  const Mixture line = gaussian_fit({0, 0, 1, 1, 2, 2}, 2);
  EXPECT_GT(line.evals[0], 0.0);
}

TEST(Mixture, RingPreset) {
  const Mixture mix = load_mixture("ring8", 1);
  ASSERT_EQ(mix.K, 8);
  ASSERT_EQ(mix.d, 2);
  for (std::int64_t k = 0; k < 8; ++k) {
    EXPECT_NEAR(std::hypot(mix.means[2 * k], mix.means[2 * k + 1]), 2.0, 1e-14);
    EXPECT_NEAR(mix.weights[k], 0.125, 1e-15);
    EXPECT_NEAR(mix.covs[4 * k], 0.04, 1e-15);
  }
  const Mixture r = load_mixture("ring:5:3:0.5", 1);
  EXPECT_EQ(r.K, 5);
  EXPECT_NEAR(r.means[0], 3.0, 1e-14);
  EXPECT_NEAR(r.covs[0], 0.25, 1e-15);
  // The JSON form reads back to the same mixture.
  const Mixture back = mixture_from_json(r.to_json().dump(), "round trip");
  EXPECT_EQ(back.means, r.means);
  EXPECT_EQ(back.covs, r.covs);
}

TEST(Mixture, BadMixturesAreRefusedWithTheirReason) {
  EXPECT_NE(error_of("{\"weights\": [1.0], ").find("bad.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"weights": [1.0], "means": [[0, 0]]})").find("no \"covariances\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"weights": [0.5, 0.4], "means": [[0], [1]],
                         "covariances": [[[1]], [[1]]]})")
                .find("the weights sum to 0.9, not 1"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"weights": [0.5, 0.5], "means": [[0, 0], [1, 1]],
                         "covariances": [[[1, 0], [0, 1]], [[1, 2], [2, 1]]]})")
                .find("covariance 1 is not positive definite"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"weights": [1], "means": [[0, 0]],
                         "covariances": [[[1, 0.5], [0, 1]]]})")
                .find("covariance 0 is not symmetric"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"weights": [0.5, 0.5], "means": [[0, 0], [1]],
                         "covariances": [[[1, 0], [0, 1]], [[1]]]})")
                .find("mean 1 has 1 coordinates"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"weights": [1.5, -0.5], "means": [[0], [1]],
                         "covariances": [[[1]], [[1]]]})")
                .find("weight 1 is -0.5"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"weights": [1], "means": [["a"]], "covariances": [[[1]]]})")
                .find("must be a list of numbers"),
            std::string::npos);
  EXPECT_NE(preset_error("ring:x").find("'x' is not a whole number"), std::string::npos);
  EXPECT_NE(preset_error("ring:0").find("K must be at least 1"), std::string::npos);
  EXPECT_NE(preset_error("random:3").find("malformed preset"), std::string::npos);
  EXPECT_NE(preset_error("gaussians9").find("neither a preset nor a readable file"),
            std::string::npos);
}
