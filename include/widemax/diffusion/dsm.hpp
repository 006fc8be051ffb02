// Denoising score matching as regression (docs/design.md §1.3). A row starts from a data point x_0,
// draws t from [t_min, T] and eps ~ N(0, I), and becomes
//   input  [x_t, phi(t)],  x_t = e^{-t} x_0 + sigma_t eps    (d + k numbers)
//   target eps + sigma_t s_b(x_t, t)                          (d numbers)
// where s_b is the score of an optional baseline: the Gaussian with the data's mean and covariance,
// whose p_t is Gaussian too (mixture.hpp), or nothing (s_b = 0). The network F predicts the
// target, and the score model is
//   s(x, t) = s_b(x, t) - F([x, phi(t)]) / sigma_t.
// Then 1/2 ||F - target||^2 = 1/2 sigma_t^2 ||s + eps / sigma_t||^2, the sigma_t^2-weighted DSM
// loss, so the trainer's plain squared loss trains the score model. The baseline matters away
// from the data: the softmax network's F is a convex combination of c_m a_r, bounded and flat
// where it saw no rows, so without s_b a sample that strays into the tails meets a near-zero
// score, and the reverse-time drift +x carries it off (e^t growth); s_b pulls it back like the
// Gaussian fit would.
// With --parametrisation x0 (the paper's setting) the row is instead
//   input  c [x_t, t]   (d + 1 numbers; c > 0 one scalar that bounds ||input|| by 1 on the
//                        training set, x0_input_scale)
//   target x_0
// and the score model is s(x, t) = (e^{-t} F - x) / sigma_t^2 (Tweedie: E[x_0 | x_t] = F gives
// the exact score), so that 1/2 ||F - x_0||^2 weighs the score error by sigma_t^4 e^{2t}.
// Every draw is a pure function of (seed, row index), so rows do not depend on the ranks.
// Not here: the network (train/trainer.hpp), MPI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "widemax/diffusion/mixture.hpp"

namespace widemax::diffusion {

// The distribution of t: uniform on [t_min, T], or log-uniform (uniform in log t).
struct TimeSampler {
  double t_min = 1e-3;
  double t_max = 1.0;
  bool log_uniform = false;
  // The u-quantile, u in (0, 1).
  double quantile(double u) const;
  // The fraction of the distribution below t: time buckets of equal mass are equal steps in it.
  double cdf(double t) const;
};

// What the network predicts: eps (with the baseline, the score is s_b - F / sigma_t) or x_0 (the
// score is (e^{-t} F - x) / sigma_t^2).
enum class Parametrisation { kEps, kX0 };
Parametrisation parse_parametrisation(const std::string& s);  // errors name --parametrisation
std::string to_string(Parametrisation p);

// The score model at one row (x, t) from the network's output f (d numbers): s_b - f / sigma_t
// (eps; `sb` the baseline's score, null for none) or (e^{-t} f - x) / sigma_t^2 (x0; `sb` unused).
// With f = 0 it is the zero network's score: s_b, or -x / sigma_t^2.
void model_score(Parametrisation p, const double* x, const double* f, const double* sb,
                 std::int64_t d, double t, double* s);

enum class TimeSampling { kUniform, kLog };
TimeSampling parse_time_sampling(const std::string& s);  // errors name --time-sampling
std::string to_string(TimeSampling k);

// Checks t_min and T; errors name --t-min and --t-max.
TimeSampler make_time_sampler(double t_min, double t_max, TimeSampling kind);

// phi(t): a comma-separated list of
//   one        the constant 1 (a bias for every hidden neuron)
//   t          t / T
//   sigma      sigma_t
//   log-sigma  log sigma_t
//   alpha      e^{-t}
//   fourier:K  cos(j pi t / T), sin(j pi t / T) for j = 1..K (2K numbers)
//   raw-t      t itself (the x0 parametrisation's only time input)
// Errors name --time-features.
class TimeFeatures {
 public:
  TimeFeatures(const std::string& spec, double t_max);
  std::int64_t size() const { return size_; }
  const std::string& spec() const { return spec_; }
  // phi(t) into out (size()).
  void eval(double t, double* out) const;
  // Column names, for heldout.csv.
  std::vector<std::string> names() const;

 private:
  enum class Kind { kOne, kT, kSigma, kLogSigma, kAlpha, kFourier, kRawT };
  struct Item {
    Kind kind;
    int order;  // fourier: K
  };
  std::string spec_;
  double t_max_;
  std::vector<Item> items_;
  std::int64_t size_ = 0;
};

// Inputs scale [x_p, phi(t)] (n, d + k) of n points X (n, d) at one time t: what the samplers
// feed the network.
template <class T>
void network_inputs(const double* X, std::int64_t n, std::int64_t d, double t,
                    const TimeFeatures& features, T* out, double scale = 1.0);

// Rows of DSM from fresh mixture samples (x_0 of row q is mixture sample q) or from a fixed set
// of points (row q takes point floor(u_q n_points), u_q uniform).
class DsmDraws {
 public:
  // Exactly one of `mix` and `points` (n_points, d) is not null; `baseline` may be null (s_b =
  // 0). They must outlive this object. With Parametrisation::kX0 the targets are x_0, the inputs
  // are multiplied by `input_scale`, and there is no baseline.
  DsmDraws(const Mixture* mix, const std::vector<double>* points, std::int64_t d,
           const TimeSampler& times, const TimeFeatures& features, std::uint64_t seed,
           const Mixture* baseline = nullptr, Parametrisation param = Parametrisation::kEps,
           double input_scale = 1.0);
  std::int64_t d() const { return d_; }
  std::int64_t input_dim() const { return d_ + features_.size(); }
  // Rows q = first .. first + n - 1: X (n, d + k) = [x_t, phi(t)] and the targets Y (n, d);
  // t (n), x0 (n, d), eps (n, d) and the unscaled x_t (n, d) too when not null.
  void fill(std::uint64_t first, std::int64_t n, double* X, double* Y, double* t,
            double* x0 = nullptr, double* eps = nullptr, double* xt = nullptr) const;
  Parametrisation parametrisation() const { return param_; }
  double input_scale() const { return scale_; }

 private:
  const Mixture* mix_;
  const std::vector<double>* points_;
  const Mixture* baseline_;
  std::int64_t d_;
  TimeSampler times_;
  TimeFeatures features_;
  std::uint64_t seed_;
  Parametrisation param_;
  double scale_;
};

// The x0 parametrisation's input scale: 1 / max_q ||[x_t, phi(t)]|| over rows 0..n-1 of `draws`
// (which must have scale 1), so that the scaled inputs of those rows have norm at most 1. Every
// rank draws all n rows (they are cheap), so the scale is the same on every grid.
double x0_input_scale(const DsmDraws& draws, std::int64_t n);

}  // namespace widemax::diffusion
