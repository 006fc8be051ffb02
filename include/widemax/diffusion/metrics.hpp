// How good a score model and its samples are:
//   - the relative score error E||s - grad log p_t||^2 / E||grad log p_t||^2, overall and per time
//     bucket (ScoreError accumulates the sums; buckets have equal mass under the time sampler),
//     and beside it that of the zero network (F = 0: the baseline alone), so that the network's
//     own contribution is not mistaken for the baseline's;
//   - the sliced Wasserstein distance SW_2 between two point sets;
//   - the recovered mixture weights: the fraction of samples whose nearest mean is mode k.
// Plain serial functions; reducing the sums over ranks is the caller's business.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "widemax/diffusion/dsm.hpp"
#include "widemax/diffusion/mixture.hpp"

namespace widemax::diffusion {

class ScoreError {
 public:
  ScoreError(int buckets, const TimeSampler& times);
  int buckets() const { return buckets_; }
  int bucket_of(double t) const;
  // One held-out row at time t: the model score s, the true score s_true and, when not null,
  // the zero network's score s_zero (d each).
  void add(double t, const double* s, const double* s_true, std::int64_t d,
           const double* s_zero = nullptr);
  // One held-out row's DSM residual ||F - eps||^2 (also when the true score is unknown).
  void add_dsm(double dsm_sq);
  // The sums (7 per bucket: error^2, true^2, rows, zero-network error^2, and the first, second
  // and fourth weighted by dsm_weight(t); then DSM residual^2 and rows), so that ranks can add
  // theirs in one all-reduce.
  std::vector<double>& sums() { return sums_; }
  double rel_error() const;            // over all buckets
  double rel_error(int bucket) const;  // NaN for an empty bucket
  double zero_rel_error() const;       // the same for the zero network
  double zero_rel_error(int bucket) const;
  // The time average with the paper's weighting lambda(t) = sigma_t^4 e^{2t} (that of the x0
  // loss, docs/design.md §1.3): E[lambda(t) ||s - grad log p_t||^2], which in x0 mode is the
  // denoiser's excess risk E||F - E[x_0 | x_t]||^2, the quantity the generalisation bounds are
  // about; relative to E[lambda(t) ||grad log p_t||^2]; and the zero network's relative one.
  static double dsm_weight(double t);
  double weighted_error() const;
  double weighted_rel_error() const;
  double zero_weighted_rel_error() const;
  double mean_dsm_loss() const;        // mean of 1/2 ||F - target||^2
  double bucket_lo(int bucket) const;  // the time range of a bucket
  double bucket_hi(int bucket) const;
  // [{"t_lo", "t_hi", "rel_error", "zero_network_rel_error", "n"}, ...]
  nlohmann::json by_time() const;

 private:
  double total(int k) const;  // sum over the buckets of their k-th sum
  int buckets_;
  TimeSampler times_;
  std::vector<double> sums_;
};

// SW_2(A, B) = sqrt(mean over `directions` unit vectors theta of W_2^2(theta.A, theta.B)), where
// W_2 of the two projected empirical measures is exact (quantile functions; na and nb may differ).
// A (na, d), B (nb, d). Directions from (seed, kStreamDirections): the same for every call with
// that seed, so distances of different sets to one reference are comparable.
double sliced_wasserstein(const double* A, std::int64_t na, const double* B, std::int64_t nb,
                          std::int64_t d, int directions, std::uint64_t seed);

// W_2^2 of two sorted samples of the real line, with equal weights within each.
double w2_squared_sorted(const std::vector<double>& a, const std::vector<double>& b);

// An upper bound on SW_2(p_0, p_t) for the mixture: SW_2 <= W_2 / sqrt(d) (a unit direction
// theta has E (theta.v)^2 = ||v||^2 / d, and projecting a coupling keeps it a coupling), and the
// coupling x_t = e^{-t} x_0 + sigma_t eps gives W_2^2 <= (1 - e^{-t})^2 E||x_0||^2 + d sigma_t^2.
// Samplers stop at t_min, so this is the part of their distance to p_0 that is by design.
double sw_stop_bound(const Mixture& mix, double t);

// The fraction of the n points X (n, d) whose nearest mean (Euclidean) is that of component k.
std::vector<double> mode_fractions(const Mixture& mix, const double* X, std::int64_t n);

}  // namespace widemax::diffusion
