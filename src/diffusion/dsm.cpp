// Time sampling, time features and DSM rows. See dsm.hpp.
#include "widemax/diffusion/dsm.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/diffusion/streams.hpp"

namespace widemax::diffusion {

double TimeSampler::quantile(double u) const {
  if (log_uniform) return t_min * std::exp(u * std::log(t_max / t_min));
  return t_min + u * (t_max - t_min);
}

double TimeSampler::cdf(double t) const {
  const double c =
      log_uniform ? std::log(t / t_min) / std::log(t_max / t_min) : (t - t_min) / (t_max - t_min);
  return std::min(1.0, std::max(0.0, c));
}

namespace {
constexpr EnumName<TimeSampling> kTimeSamplings[] = {{TimeSampling::kUniform, "uniform"},
                                                     {TimeSampling::kLog, "log"}};
}  // namespace

namespace {
constexpr EnumName<Parametrisation> kParametrisations[] = {{Parametrisation::kEps, "eps"},
                                                           {Parametrisation::kX0, "x0"}};
}  // namespace

Parametrisation parse_parametrisation(const std::string& s) {
  return parse_enum(kParametrisations, s, "--parametrisation", "parametrisation");
}
std::string to_string(Parametrisation p) {
  return enum_name(kParametrisations, p);
}

void model_score(Parametrisation p, const double* x, const double* f, const double* sb,
                 std::int64_t d, double t, double* s) {
  const double sig = ou_sigma(t);
  if (p == Parametrisation::kX0) {
    const double a = ou_alpha(t), s2 = sig * sig;
    for (std::int64_t j = 0; j < d; ++j) s[j] = (a * f[j] - x[j]) / s2;
    return;
  }
  for (std::int64_t j = 0; j < d; ++j) s[j] = (sb ? sb[j] : 0.0) - f[j] / sig;
}

TimeSampling parse_time_sampling(const std::string& s) {
  return parse_enum(kTimeSamplings, s, "--time-sampling", "distribution");
}
std::string to_string(TimeSampling k) {
  return enum_name(kTimeSamplings, k);
}

TimeSampler make_time_sampler(double t_min, double t_max, TimeSampling kind) {
  WIDEMAX_CHECK_HINT(std::isfinite(t_min) && t_min > 0, "sigma_t vanishes at t = 0; try 1e-3",
                     "--t-min must be positive, got ", t_min);
  WIDEMAX_CHECK_HINT(std::isfinite(t_max) && t_max > t_min,
                     "the forward process runs from t_min up to T", "--t-min ", t_min,
                     " must be below --t-max ", t_max);
  return TimeSampler{t_min, t_max, kind == TimeSampling::kLog};
}

TimeFeatures::TimeFeatures(const std::string& spec, double t_max) : spec_(spec), t_max_(t_max) {
  const char* hint = "a comma-separated list of one, t, sigma, log-sigma, alpha, fourier:K, raw-t";
  std::size_t start = 0;
  while (start <= spec.size()) {
    const auto comma = spec.find(',', start);
    std::string item = spec.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    WIDEMAX_CHECK_HINT(!item.empty(), hint, "--time-features '", spec, "': empty item");
    if (item == "one") {
      items_.push_back({Kind::kOne, 0});
    } else if (item == "t") {
      items_.push_back({Kind::kT, 0});
    } else if (item == "sigma") {
      items_.push_back({Kind::kSigma, 0});
    } else if (item == "log-sigma") {
      items_.push_back({Kind::kLogSigma, 0});
    } else if (item == "alpha") {
      items_.push_back({Kind::kAlpha, 0});
    } else if (item == "raw-t") {
      items_.push_back({Kind::kRawT, 0});
    } else if (item.rfind("fourier:", 0) == 0) {
      const std::string k = item.substr(8);
      int order = 0;
      try {
        std::size_t used = 0;
        order = std::stoi(k, &used);
        if (used != k.size()) order = 0;
      } catch (...) {
        order = 0;
      }
      WIDEMAX_CHECK_HINT(order >= 1 && order <= 64, hint, "--time-features: '", item,
                         "': K must be a whole number from 1 to 64");
      items_.push_back({Kind::kFourier, order});
    } else {
      WIDEMAX_FAIL_HINT(hint, "--time-features: unknown feature '", item, "'");
    }
    size_ += items_.back().kind == Kind::kFourier ? 2 * items_.back().order : 1;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

void TimeFeatures::eval(double t, double* out) const {
  for (const Item& it : items_) {
    switch (it.kind) {
      case Kind::kOne:
        *out++ = 1.0;
        break;
      case Kind::kT:
        *out++ = t / t_max_;
        break;
      case Kind::kSigma:
        *out++ = ou_sigma(t);
        break;
      case Kind::kLogSigma:
        *out++ = std::log(ou_sigma(t));
        break;
      case Kind::kAlpha:
        *out++ = ou_alpha(t);
        break;
      case Kind::kRawT:
        *out++ = t;
        break;
      case Kind::kFourier:
        for (int j = 1; j <= it.order; ++j) {
          *out++ = std::cos(j * std::numbers::pi * t / t_max_);
          *out++ = std::sin(j * std::numbers::pi * t / t_max_);
        }
        break;
    }
  }
}

std::vector<std::string> TimeFeatures::names() const {
  std::vector<std::string> n;
  for (const Item& it : items_) {
    switch (it.kind) {
      case Kind::kOne:
        n.push_back("one");
        break;
      case Kind::kT:
        n.push_back("t_over_T");
        break;
      case Kind::kSigma:
        n.push_back("sigma");
        break;
      case Kind::kLogSigma:
        n.push_back("log_sigma");
        break;
      case Kind::kAlpha:
        n.push_back("alpha");
        break;
      case Kind::kRawT:
        n.push_back("t");
        break;
      case Kind::kFourier:
        for (int j = 1; j <= it.order; ++j) {
          n.push_back(cat("cos", j));
          n.push_back(cat("sin", j));
        }
        break;
    }
  }
  return n;
}

template <class T>
void network_inputs(const double* X, std::int64_t n, std::int64_t d, double t,
                    const TimeFeatures& features, T* out, double scale) {
  const std::int64_t k = features.size(), w = d + k;
  std::vector<double> phi(static_cast<std::size_t>(k));
  features.eval(t, phi.data());
  for (std::int64_t p = 0; p < n; ++p) {
    for (std::int64_t j = 0; j < d; ++j) out[p * w + j] = static_cast<T>(scale * X[p * d + j]);
    for (std::int64_t j = 0; j < k; ++j) out[p * w + d + j] = static_cast<T>(scale * phi[j]);
  }
}

template void network_inputs(const double*, std::int64_t, std::int64_t, double, const TimeFeatures&,
                             double*, double);
template void network_inputs(const double*, std::int64_t, std::int64_t, double, const TimeFeatures&,
                             float*, double);

DsmDraws::DsmDraws(const Mixture* mix, const std::vector<double>* points, std::int64_t d,
                   const TimeSampler& times, const TimeFeatures& features, std::uint64_t seed,
                   const Mixture* baseline, Parametrisation param, double input_scale)
    : mix_(mix),
      points_(points),
      baseline_(baseline),
      d_(d),
      times_(times),
      features_(features),
      seed_(seed),
      param_(param),
      scale_(input_scale) {
  WIDEMAX_CHECK(param == Parametrisation::kEps || !baseline,
                "DsmDraws: the x0 parametrisation has no baseline");
  WIDEMAX_CHECK(std::isfinite(input_scale) && input_scale > 0, "DsmDraws: input scale ",
                input_scale, " is not positive");
  WIDEMAX_CHECK(!baseline || baseline->d == d, "DsmDraws: the baseline is not ", d, "-dimensional");
  WIDEMAX_CHECK((mix != nullptr) != (points != nullptr), "DsmDraws: give a mixture or points");
  WIDEMAX_CHECK(!points || (!points->empty() && points->size() % static_cast<std::size_t>(d) == 0),
                "DsmDraws: the points are not rows of ", d, " numbers");
}

void DsmDraws::fill(std::uint64_t first, std::int64_t n, double* X, double* Y, double* t,
                    double* x0, double* eps, double* xt) const {
  const std::int64_t d = d_, w = input_dim();
  const auto n_points = points_ ? static_cast<std::int64_t>(points_->size()) / d : 0;
#pragma omp parallel
  {
    std::vector<double> x(static_cast<std::size_t>(d)), sb(static_cast<std::size_t>(d), 0.0);
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < n; ++p) {
      const std::uint64_t q = first + static_cast<std::uint64_t>(p);
      if (mix_) {
        sample_mixture(*mix_, seed_, q, x.data());
      } else {
        auto i = static_cast<std::int64_t>(rng::uniform(seed_, kStreamPick, q, 0) *
                                           static_cast<double>(n_points));
        i = std::min(i, n_points - 1);
        std::copy_n(points_->data() + i * d, d, x.data());
      }
      const double tq = times_.quantile(rng::uniform(seed_, kStreamTime, q, 0));
      const double a = ou_alpha(tq), s = ou_sigma(tq);
      double* row = X + p * w;
      for (std::int64_t j = 0; j < d; ++j) {
        const double e = rng::normal(seed_, kStreamEps, q, static_cast<std::uint64_t>(j));
        row[j] = a * x[j] + s * e;
        Y[p * d + j] = param_ == Parametrisation::kX0 ? x[j] : e;
        if (xt) xt[p * d + j] = row[j];
        if (x0) x0[p * d + j] = x[j];
        if (eps) eps[p * d + j] = e;
      }
      if (baseline_) {
        score(*baseline_, row, &tq, 1, sb.data());
        for (std::int64_t j = 0; j < d; ++j) Y[p * d + j] += s * sb[j];
      }
      features_.eval(tq, row + d);
      // Exactly the unscaled row in eps mode: existing runs are unchanged.
      if (scale_ != 1.0)
        for (std::int64_t j = 0; j < w; ++j) row[j] *= scale_;
      if (t) t[p] = tq;
    }
  }
}

double x0_input_scale(const DsmDraws& draws, std::int64_t n) {
  WIDEMAX_CHECK(draws.input_scale() == 1.0, "x0_input_scale: the draws are already scaled");
  const std::int64_t w = draws.input_dim(), d = draws.d();
  // In chunks, so that a large --train-samples needs no second copy of the set.
  constexpr std::int64_t kChunk = 4096;
  std::vector<double> X(static_cast<std::size_t>(kChunk * w)),
      Y(static_cast<std::size_t>(kChunk * d));
  double max_sq = 0;
  for (std::int64_t first = 0; first < n; first += kChunk) {
    const std::int64_t k = std::min(kChunk, n - first);
    draws.fill(static_cast<std::uint64_t>(first), k, X.data(), Y.data(), nullptr);
    for (std::int64_t q = 0; q < k; ++q) {
      double sq = 0;
      for (std::int64_t j = 0; j < w; ++j) sq += X[q * w + j] * X[q * w + j];
      max_sq = std::max(max_sq, sq);
    }
  }
  WIDEMAX_CHECK(max_sq > 0, "x0_input_scale: every input is zero");
  return 1.0 / std::sqrt(max_sq);
}

}  // namespace widemax::diffusion
