// Score error sums, sliced Wasserstein distances and recovered weights. See metrics.hpp.
#include "widemax/diffusion/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "widemax/core/error.hpp"
#include "widemax/diffusion/streams.hpp"

namespace widemax::diffusion {

namespace {
constexpr int kPer = 7;  // sums per bucket: see ScoreError::sums()
double ratio(double num, double den) {
  return den > 0 ? num / den : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

ScoreError::ScoreError(int buckets, const TimeSampler& times)
    : buckets_(buckets), times_(times), sums_(static_cast<std::size_t>(kPer * buckets + 2), 0.0) {
  WIDEMAX_CHECK(buckets >= 1, "--time-buckets must be at least 1, got ", buckets);
}

int ScoreError::bucket_of(double t) const {
  const int b = static_cast<int>(times_.cdf(t) * buckets_);
  return std::min(std::max(b, 0), buckets_ - 1);
}

void ScoreError::add(double t, const double* s, const double* s_true, std::int64_t d,
                     const double* s_zero) {
  double err = 0, ref = 0, zero = 0;
  for (std::int64_t j = 0; j < d; ++j) {
    err += (s[j] - s_true[j]) * (s[j] - s_true[j]);
    ref += s_true[j] * s_true[j];
    if (s_zero) zero += (s_zero[j] - s_true[j]) * (s_zero[j] - s_true[j]);
  }
  double* b = sums_.data() + kPer * bucket_of(t);
  b[0] += err;
  b[1] += ref;
  b[2] += 1;
  b[3] += zero;
  const double w = dsm_weight(t);
  b[4] += w * err;
  b[5] += w * ref;
  b[6] += w * zero;
}

double ScoreError::dsm_weight(double t) {
  const double r = ou_sigma(t) * ou_sigma(t) / ou_alpha(t);  // sigma_t^2 e^t
  return r * r;
}

double ScoreError::total(int k) const {
  double acc = 0;
  for (int b = 0; b < buckets_; ++b) acc += sums_[kPer * b + k];
  return acc;
}

double ScoreError::weighted_error() const {
  return ratio(total(4), total(2));
}
double ScoreError::weighted_rel_error() const {
  return ratio(total(4), total(5));
}
double ScoreError::zero_weighted_rel_error() const {
  return ratio(total(6), total(5));
}

void ScoreError::add_dsm(double dsm_sq) {
  sums_[kPer * buckets_] += dsm_sq;
  sums_[kPer * buckets_ + 1] += 1;
}

double ScoreError::rel_error() const {
  return ratio(total(0), total(1));
}

double ScoreError::rel_error(int b) const {
  return ratio(sums_[kPer * b], sums_[kPer * b + 1]);
}

double ScoreError::zero_rel_error() const {
  return ratio(total(3), total(1));
}

double ScoreError::zero_rel_error(int b) const {
  return ratio(sums_[kPer * b + 3], sums_[kPer * b + 1]);
}

double ScoreError::mean_dsm_loss() const {
  const double n = sums_[kPer * buckets_ + 1];
  return n > 0 ? 0.5 * sums_[kPer * buckets_] / n : std::numeric_limits<double>::quiet_NaN();
}

double ScoreError::bucket_lo(int b) const {
  return times_.quantile(static_cast<double>(b) / buckets_);
}

double ScoreError::bucket_hi(int b) const {
  return times_.quantile(static_cast<double>(b + 1) / buckets_);
}

nlohmann::json ScoreError::by_time() const {
  nlohmann::json out = nlohmann::json::array();
  for (int b = 0; b < buckets_; ++b) {
    const double r = rel_error(b), z = zero_rel_error(b);
    out.push_back(
        {{"t_lo", bucket_lo(b)},
         {"t_hi", bucket_hi(b)},
         {"rel_error", std::isfinite(r) ? nlohmann::json(r) : nlohmann::json()},
         {"zero_network_rel_error", std::isfinite(z) ? nlohmann::json(z) : nlohmann::json()},
         {"n", static_cast<std::int64_t>(sums_[kPer * b + 2])}});
  }
  return out;
}

double w2_squared_sorted(const std::vector<double>& a, const std::vector<double>& b) {
  const auto n = static_cast<std::int64_t>(a.size()), m = static_cast<std::int64_t>(b.size());
  WIDEMAX_CHECK(n > 0 && m > 0, "W_2 of an empty sample");
  // Both quantile functions are step functions: a_i on [i/n, (i+1)/n), b_j on [j/m, (j+1)/m).
  // Walk the merged breakpoints; (i+1) m vs (j+1) n compares them exactly in integers.
  double acc = 0, u = 0;
  std::int64_t i = 0, j = 0;
  while (i < n && j < m) {
    const std::int64_t ei = (i + 1) * m, ej = (j + 1) * n;
    const double next = ei <= ej ? static_cast<double>(i + 1) / static_cast<double>(n)
                                 : static_cast<double>(j + 1) / static_cast<double>(m);
    const double diff = a[i] - b[j];
    acc += (next - u) * diff * diff;
    u = next;
    if (ei <= ej) ++i;
    if (ej <= ei) ++j;
  }
  return acc;
}

double sliced_wasserstein(const double* A, std::int64_t na, const double* B, std::int64_t nb,
                          std::int64_t d, int directions, std::uint64_t seed) {
  WIDEMAX_CHECK(directions >= 1, "--sw-directions must be at least 1, got ", directions);
  std::vector<double> acc(static_cast<std::size_t>(directions), 0.0);
#pragma omp parallel
  {
    std::vector<double> theta(static_cast<std::size_t>(d)), pa(static_cast<std::size_t>(na)),
        pb(static_cast<std::size_t>(nb));
#pragma omp for schedule(static)
    for (int l = 0; l < directions; ++l) {
      double norm = 0;
      for (std::int64_t j = 0; j < d; ++j) {
        theta[j] = rng::normal(seed, kStreamDirections, static_cast<std::uint64_t>(l),
                               static_cast<std::uint64_t>(j));
        norm += theta[j] * theta[j];
      }
      norm = std::sqrt(norm);
      for (auto& v : theta) v /= norm;
      auto project = [&](const double* X, std::int64_t n, std::vector<double>& p) {
        for (std::int64_t i = 0; i < n; ++i) {
          double v = 0;
          for (std::int64_t j = 0; j < d; ++j) v += theta[j] * X[i * d + j];
          p[i] = v;
        }
        std::sort(p.begin(), p.end());
      };
      project(A, na, pa);
      project(B, nb, pb);
      acc[l] = w2_squared_sorted(pa, pb);
    }
  }
  double sum = 0;
  for (double v : acc) sum += v;  // in direction order: the same on every thread count
  return std::sqrt(sum / directions);
}

double sw_stop_bound(const Mixture& mix, double t) {
  double ex2 = 0;  // E||x_0||^2 = sum_k pi_k (||mu_k||^2 + tr S_k)
  for (std::int64_t k = 0; k < mix.K; ++k) {
    double m2 = 0;
    for (std::int64_t i = 0; i < mix.d; ++i)
      m2 += mix.mean(k)[i] * mix.mean(k)[i] + mix.covs[(k * mix.d + i) * mix.d + i];
    ex2 += mix.weights[k] * m2;
  }
  const double shrink = -std::expm1(-t), s2 = -std::expm1(-2.0 * t);
  const double d = static_cast<double>(mix.d);
  return std::sqrt((shrink * shrink * ex2 + d * s2) / d);
}

std::vector<double> mode_fractions(const Mixture& mix, const double* X, std::int64_t n) {
  std::vector<double> f(static_cast<std::size_t>(mix.K), 0.0);
  for (std::int64_t i = 0; i < n; ++i) f[nearest_mode(mix, X + i * mix.d)] += 1;
  for (auto& v : f) v /= static_cast<double>(std::max<std::int64_t>(n, 1));
  return f;
}

}  // namespace widemax::diffusion
