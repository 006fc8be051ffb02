// Gaussian mixtures in R^d and the forward Ornstein-Uhlenbeck process of docs/design.md §1.3:
//   x_t = e^{-t} x_0 + sigma_t eps,  sigma_t^2 = 1 - e^{-2t}.
// When x_0 ~ sum_k pi_k N(mu_k, S_k), p_t = sum_k pi_k N(e^{-t} mu_k, e^{-2t} S_k + sigma_t^2 I),
// so its density and score are known in closed form: the ground truth that `widemax diffusion`
// measures a learned score against, and the exact score its reference sampler uses.
// Each S_k is diagonalised once, S_k = U_k diag(lambda_k) U_k^T; the covariance at time t has the
// same eigenvectors and eigenvalues e^{-2t} lambda_k + sigma_t^2, so the density and the score at
// any t cost O(K d^2) per point with no factorisation per t.
// Not here: the DSM rows and their noise (dsm.hpp), MPI.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace widemax::diffusion {

// e^{-t} and sigma_t = sqrt(1 - e^{-2t}) of the forward process.
double ou_alpha(double t);
double ou_sigma(double t);

struct Mixture {
  std::int64_t d = 0;
  std::int64_t K = 0;
  std::vector<double> weights;  // (K), positive, summing to 1
  std::vector<double> means;    // (K, d)
  std::vector<double> covs;     // (K, d, d), symmetric positive definite
  // From make_mixture: the eigenvectors of each S_k as rows, (K, d, d) (row j of block k is the
  // unit eigenvector e_kj), and the eigenvalues lambda_k (K, d).
  std::vector<double> evecs;
  std::vector<double> evals;
  std::string source;  // what it was made from (a preset name or a file), for messages and JSON

  const double* mean(std::int64_t k) const { return means.data() + k * d; }
  nlohmann::json to_json() const;  // {"weights", "means", "covariances"}: the file format
};

// Checks a mixture (shapes, finite values, weights > 0 summing to 1 within 1e-6, covariances
// symmetric and positive definite) and diagonalises its covariances. Errors name `source`
// (a file or an option) and the offending component.
Mixture make_mixture(std::vector<double> weights, std::vector<double> means,
                     std::vector<double> covs, std::int64_t K, std::int64_t d,
                     const std::string& source);

// The JSON form {"weights": [K], "means": [[d] x K], "covariances": [[[d] x d] x K]}.
Mixture mixture_from_json(const std::string& text, const std::string& source);

// K isotropic components of standard deviation `std` with equal weights, means on the circle of
// radius `radius` in the plane (d = 2).
Mixture ring_mixture(std::int64_t K, double radius, double std);

// K components in d dimensions from `seed`: weights proportional to 1 + u_k (u uniform in (0, 1),
// so no weight is below half another's), means mu_k ~ N(0, 2^2 I), covariances
// 0.3^2 (0.5 I + G G^T / d) with G a d x d standard normal matrix.
Mixture random_mixture(std::int64_t K, std::int64_t d, std::uint64_t seed);

// --mixture: a preset or a JSON file. Presets: ring8 (8 components of std 0.2 on the circle of
// radius 2), ring:K[:RADIUS[:STD]], random:K:D (random_mixture with `seed`). Anything else is read
// as a file. Errors name --mixture.
Mixture load_mixture(const std::string& spec, std::uint64_t seed);

// Draws sample `index` of the mixture: a pure function of (seed, index). Writes x (d) and returns
// the component it came from.
std::int64_t sample_mixture(const Mixture& mix, std::uint64_t seed, std::uint64_t index, double* x);

// log p_t(x) for one point.
double log_density(const Mixture& mix, const double* x, double t);

// The closed-form score grad log p_t(x) of n points X (n, d) at times t (n) into S (n, d).
// OpenMP over points.
void score(const Mixture& mix, const double* X, const double* t, std::int64_t n, double* S);

// The Gaussian with the same mean and covariance (a one-component mixture): of a mixture,
// sum_k pi_k mu_k and sum_k pi_k (S_k + mu_k mu_k^T) - m m^T; of n points (n, d), their sample
// mean and covariance (divided by n) plus 1e-9 times its largest diagonal entry (so that
// collinear points still give a positive definite matrix). The baseline of dsm.hpp.
Mixture gaussian_fit(const Mixture& mix);
Mixture gaussian_fit(const std::vector<double>& points, std::int64_t d);

// Index of the mean nearest to x (Euclidean).
std::int64_t nearest_mode(const Mixture& mix, const double* x);

}  // namespace widemax::diffusion
