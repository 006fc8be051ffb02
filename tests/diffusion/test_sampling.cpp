// The reverse-time samplers driven by the exact score reproduce the mixture, for the ring of 8
// Gaussians and a random 3-D mixture with full covariances, with both samplers:
//   - the recovered weights (nearest-mode fractions) are within 0.05 of the mixture's;
//   - the sliced Wasserstein distance to fresh samples of the mixture is below
//         B = mean_null + 4 sd_null + SW_stop.
//     The null is SW_2 between two independent sets of fresh samples of the same size (20 pairs):
//     what a perfect sampler scores, since its N samples are compared with N others. SW_stop
//     (metrics.hpp, sw_stop_bound) is a proven upper bound on SW_2(p_0, p_{t_min}): the samplers
//     stop at t_min by design. What B leaves no room for, starting from N(0, I) instead of p_T
//     (T = 6: the means shrink by e^-6) and the time discretisation, must therefore be small,
//     which is what the test checks.
// Also: the geometric time grid, and samples independent of how points are split into batches.
#include <gtest/gtest.h>

#include <cmath>

#include "widemax/diffusion/metrics.hpp"
#include "widemax/diffusion/mixture.hpp"
#include "widemax/diffusion/sampler.hpp"

using namespace widemax::diffusion;

namespace {

constexpr std::int64_t kN = 2000;
constexpr int kDirections = 200;

std::vector<double> fresh(const Mixture& mix, std::uint64_t seed, std::int64_t n) {
  std::vector<double> X(n * mix.d);
  for (std::int64_t i = 0; i < n; ++i) sample_mixture(mix, seed, i, X.data() + i * mix.d);
  return X;
}

ScoreFn exact_score(const Mixture& mix) {
  return [&mix](const double* X, std::int64_t n, double t, double* S) {
    const std::vector<double> tv(n, t);
    score(mix, X, tv.data(), n, S);
  };
}

void check_sampler(const Mixture& mix, SamplerKind kind, std::int64_t steps, const char* name) {
  const double t_min = 1e-3, T = 6.0;
  const auto grid = sampler_grid(t_min, T, steps);
  std::vector<double> X(kN * mix.d);
  reverse_sample(kind, exact_score(mix), grid, 0, kN, mix.d, 5, X.data());
  const std::vector<double> ref = fresh(mix, 1001, kN);
  // The null distribution: independent fresh sets against the same reference.
  double sum = 0, sum2 = 0;
  const int pairs = 20;
  for (int r = 0; r < pairs; ++r) {
    const std::vector<double> other = fresh(mix, 2000 + r, kN);
    const double v = sliced_wasserstein(other.data(), kN, ref.data(), kN, mix.d, kDirections, 77);
    sum += v;
    sum2 += v * v;
  }
  const double mean = sum / pairs, sd = std::sqrt(std::max(0.0, sum2 / pairs - mean * mean));
  const double stop = sw_stop_bound(mix, t_min);
  const double bound = mean + 4 * sd + stop;
  const double sw = sliced_wasserstein(X.data(), kN, ref.data(), kN, mix.d, kDirections, 77);
  EXPECT_LT(sw, bound) << name << " " << to_string(kind) << ": null " << mean << " +- " << sd
                       << ", stop " << stop;
  const auto frac = mode_fractions(mix, X.data(), kN);
  double worst = 0;
  for (std::int64_t k = 0; k < mix.K; ++k)
    worst = std::max(worst, std::abs(frac[k] - mix.weights[k]));
  EXPECT_LT(worst, 0.05) << name << " " << to_string(kind);
  std::printf("%s %s: SW %.4f (null %.4f +- %.4f, stop bound %.4f, B = %.4f), weight error %.4f\n",
              name, to_string(kind).c_str(), sw, mean, sd, stop, bound, worst);

  // A sampler that does not move the points fails the same test: the bound has teeth.
  std::vector<double> start(kN * mix.d);
  reverse_sample(kind, exact_score(mix), {T, T}, 0, kN, mix.d, 5, start.data());
  EXPECT_GT(sliced_wasserstein(start.data(), kN, ref.data(), kN, mix.d, kDirections, 77), bound);
}

}  // namespace

TEST(Sampling, ExactScoreReproducesTheRing) {
  const Mixture mix = load_mixture("ring8", 1);
  check_sampler(mix, SamplerKind::kSde, 500, "ring8");
  check_sampler(mix, SamplerKind::kOde, 200, "ring8");
}

TEST(Sampling, ExactScoreReproducesARandomMixture) {
  const Mixture mix = load_mixture("random:4:3", 3);
  check_sampler(mix, SamplerKind::kSde, 500, "random:4:3");
  check_sampler(mix, SamplerKind::kOde, 200, "random:4:3");
}

TEST(Sampling, GeometricGridAndBatchIndependence) {
  const auto g = sampler_grid(0.01, 1.0, 4);
  ASSERT_EQ(g.size(), 5u);
  EXPECT_EQ(g.front(), 1.0);
  EXPECT_EQ(g.back(), 0.01);
  EXPECT_NEAR(g[2], 0.1, 1e-15);
  const Mixture mix = load_mixture("ring:3", 1);
  const auto grid = sampler_grid(1e-3, 3.0, 30);
  for (const auto kind : {SamplerKind::kSde, SamplerKind::kOde}) {
    std::vector<double> all(10 * 2), part(4 * 2);
    reverse_sample(kind, exact_score(mix), grid, 0, 10, 2, 9, all.data());
    reverse_sample(kind, exact_score(mix), grid, 6, 4, 2, 9, part.data());
    for (int q = 0; q < 8; ++q) EXPECT_EQ(part[q], all[12 + q]);
  }
}
