// Gaussian mixtures: checks, presets, the JSON format, sampling, and the closed-form density and
// score of p_t. See mixture.hpp. The eigendecomposition of each covariance is LAPACK's dsyev,
// done once per component.
#include "widemax/diffusion/mixture.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>

#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"
#include "widemax/core/random.hpp"
#include "widemax/diffusion/streams.hpp"

extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                       double* w, double* work, const int* lwork, int* info);

namespace widemax::diffusion {

double ou_alpha(double t) {
  return std::exp(-t);
}

double ou_sigma(double t) {
  return std::sqrt(-std::expm1(-2.0 * t));
}

namespace {

// Eigenvalues (ascending) and eigenvectors (as rows) of the symmetric d x d matrix S.
void eigen_sym(const double* S, std::int64_t d, double* evals, double* evecs) {
  const int n = static_cast<int>(d);
  std::copy(S, S + d * d, evecs);  // symmetric: row- and column-major agree
  int info = 0, lwork = -1;
  double query = 0;
  dsyev_("V", "U", &n, evecs, &n, evals, &query, &lwork, &info);
  lwork = static_cast<int>(query);
  std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
  dsyev_("V", "U", &n, evecs, &n, evals, work.data(), &lwork, &info);
  WIDEMAX_CHECK(info == 0, "LAPACK dsyev failed with info = ", info);
  // Column-major output: eigenvector j is evecs[j*d .. j*d + d), which is row j in row-major.
}

// The log-density of each component at x, without the constant -d/2 log(2 pi), into logp (K), and
// Sigma_k(t)^{-1} (x - e^{-t} mu_k) expressed in each eigenbasis into w (K, d).
void component_terms(const Mixture& mix, const double* x, double t, double* logp, double* w) {
  const std::int64_t d = mix.d;
  const double a = ou_alpha(t), a2 = a * a, s2 = -std::expm1(-2.0 * t);
  for (std::int64_t k = 0; k < mix.K; ++k) {
    const double* mu = mix.mean(k);
    const double* E = mix.evecs.data() + k * d * d;
    const double* lam = mix.evals.data() + k * d;
    double quad = 0, logdet = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      double v = 0;
      for (std::int64_t i = 0; i < d; ++i) v += E[j * d + i] * (x[i] - a * mu[i]);
      const double l = a2 * lam[j] + s2;
      w[k * d + j] = v / l;
      quad += v * v / l;
      logdet += std::log(l);
    }
    logp[k] = std::log(mix.weights[k]) - 0.5 * (quad + logdet);
  }
}

double log_sum_exp(const double* v, std::int64_t n) {
  const double top = *std::max_element(v, v + n);
  double s = 0;
  for (std::int64_t k = 0; k < n; ++k) s += std::exp(v[k] - top);
  return top + std::log(s);
}

std::vector<double> numbers(const nlohmann::json& j, const std::string& what,
                            const std::string& source) {
  WIDEMAX_CHECK(j.is_array(), source, ": ", what, " must be a list of numbers");
  std::vector<double> v;
  for (const auto& e : j) {
    WIDEMAX_CHECK(e.is_number(), source, ": ", what, " must be a list of numbers, found ",
                  e.dump());
    v.push_back(e.get<double>());
  }
  return v;
}

std::int64_t parse_int(const std::string& s, const std::string& what) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (...) {
  }
  WIDEMAX_FAIL_HINT("presets: ring8, ring:K[:RADIUS[:STD]], random:K:D, or a JSON file", what,
                    ": '", s, "' is not a whole number");
}

double parse_real(const std::string& s, const std::string& what) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (...) {
  }
  WIDEMAX_FAIL_HINT("presets: ring8, ring:K[:RADIUS[:STD]], random:K:D, or a JSON file", what,
                    ": '", s, "' is not a number");
}

std::vector<std::string> split_colons(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto c = s.find(':', start);
    parts.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) return parts;
    start = c + 1;
  }
}

}  // namespace

Mixture make_mixture(std::vector<double> weights, std::vector<double> means,
                     std::vector<double> covs, std::int64_t K, std::int64_t d,
                     const std::string& source) {
  WIDEMAX_CHECK(K >= 1, source, ": the mixture has no component");
  WIDEMAX_CHECK(d >= 1, source, ": the means have no coordinate");
  WIDEMAX_CHECK(static_cast<std::int64_t>(weights.size()) == K &&
                    static_cast<std::int64_t>(means.size()) == K * d &&
                    static_cast<std::int64_t>(covs.size()) == K * d * d,
                source, ": expected ", K, " weights, ", K, " means of ", d, " numbers and ", K,
                " covariances of ", d, "x", d);
  double sum = 0;
  for (std::int64_t k = 0; k < K; ++k) {
    WIDEMAX_CHECK(std::isfinite(weights[k]) && weights[k] > 0, source, ": weight ", k, " is ",
                  weights[k], "; weights must be positive");
    sum += weights[k];
  }
  WIDEMAX_CHECK_HINT(std::abs(sum - 1.0) <= 1e-6, "the weights are probabilities", source,
                     ": the weights sum to ", sum, ", not 1");
  for (auto& w : weights) w /= sum;
  for (std::int64_t q = 0; q < K * d; ++q)
    WIDEMAX_CHECK(std::isfinite(means[q]), source, ": mean ", q / d, " has a non-finite entry");
  Mixture mix;
  mix.d = d;
  mix.K = K;
  mix.source = source;
  mix.evecs.resize(static_cast<std::size_t>(K * d * d));
  mix.evals.resize(static_cast<std::size_t>(K * d));
  for (std::int64_t k = 0; k < K; ++k) {
    double* S = covs.data() + k * d * d;
    double scale = 0;
    for (std::int64_t q = 0; q < d * d; ++q) {
      WIDEMAX_CHECK(std::isfinite(S[q]), source, ": covariance ", k, " has a non-finite entry");
      scale = std::max(scale, std::abs(S[q]));
    }
    for (std::int64_t i = 0; i < d; ++i)
      for (std::int64_t j = 0; j < i; ++j) {
        WIDEMAX_CHECK(std::abs(S[i * d + j] - S[j * d + i]) <= 1e-9 * scale, source,
                      ": covariance ", k, " is not symmetric: entry (", i, ", ", j, ") is ",
                      S[i * d + j], " but (", j, ", ", i, ") is ", S[j * d + i]);
        S[i * d + j] = S[j * d + i] = 0.5 * (S[i * d + j] + S[j * d + i]);
      }
    double* lam = mix.evals.data() + k * d;
    eigen_sym(S, d, lam, mix.evecs.data() + k * d * d);
    WIDEMAX_CHECK_HINT(lam[0] > 1e-12 * std::max(lam[d - 1], 0.0) && lam[0] > 0,
                       "a covariance must be positive definite (all eigenvalues > 0)", source,
                       ": covariance ", k, " is not positive definite: its smallest eigenvalue is ",
                       lam[0]);
  }
  mix.weights = std::move(weights);
  mix.means = std::move(means);
  mix.covs = std::move(covs);
  return mix;
}

Mixture mixture_from_json(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    WIDEMAX_FAIL_HINT(
        "write {\"weights\": [...], \"means\": [[...], ...], \"covariances\": [[[...]]]}", source,
        ": not valid JSON: ", e.what());
  }
  WIDEMAX_CHECK(j.is_object(), source, ": expected a JSON object with weights, means, covariances");
  for (const char* key : {"weights", "means", "covariances"})
    WIDEMAX_CHECK_HINT(j.contains(key),
                       "write {\"weights\": [...], \"means\": [[...], ...], "
                       "\"covariances\": [[[...]]]}",
                       source, ": no \"", key, "\"");
  std::vector<double> weights = numbers(j["weights"], "\"weights\"", source);
  const auto K = static_cast<std::int64_t>(weights.size());
  WIDEMAX_CHECK(K >= 1, source, ": \"weights\" is empty");
  const auto& jm = j["means"];
  const auto& jc = j["covariances"];
  WIDEMAX_CHECK(jm.is_array() && static_cast<std::int64_t>(jm.size()) == K, source,
                ": \"means\" must be a list of ", K, " means (one per weight)");
  WIDEMAX_CHECK(jc.is_array() && static_cast<std::int64_t>(jc.size()) == K, source,
                ": \"covariances\" must be a list of ", K, " matrices (one per weight)");
  std::vector<double> means, covs;
  std::int64_t d = -1;
  for (std::int64_t k = 0; k < K; ++k) {
    const auto mu = numbers(jm[k], cat("mean ", k), source);
    if (d < 0) d = static_cast<std::int64_t>(mu.size());
    WIDEMAX_CHECK(static_cast<std::int64_t>(mu.size()) == d && d >= 1, source, ": mean ", k,
                  " has ", mu.size(), " coordinates, mean 0 has ", d);
    means.insert(means.end(), mu.begin(), mu.end());
    WIDEMAX_CHECK(jc[k].is_array() && static_cast<std::int64_t>(jc[k].size()) == d, source,
                  ": covariance ", k, " must be a list of ", d, " rows of ", d, " numbers");
    for (std::int64_t i = 0; i < d; ++i) {
      const auto row = numbers(jc[k][i], cat("covariance ", k, " row ", i), source);
      WIDEMAX_CHECK(static_cast<std::int64_t>(row.size()) == d, source, ": covariance ", k, " row ",
                    i, " has ", row.size(), " numbers, expected ", d);
      covs.insert(covs.end(), row.begin(), row.end());
    }
  }
  return make_mixture(std::move(weights), std::move(means), std::move(covs), K, d, source);
}

nlohmann::json Mixture::to_json() const {
  nlohmann::json m = nlohmann::json::array(), c = nlohmann::json::array();
  for (std::int64_t k = 0; k < K; ++k) {
    m.push_back(std::vector<double>(means.begin() + k * d, means.begin() + (k + 1) * d));
    nlohmann::json rows = nlohmann::json::array();
    for (std::int64_t i = 0; i < d; ++i)
      rows.push_back(
          std::vector<double>(covs.begin() + (k * d + i) * d, covs.begin() + (k * d + i + 1) * d));
    c.push_back(rows);
  }
  return {{"weights", weights}, {"means", m}, {"covariances", c}};
}

Mixture ring_mixture(std::int64_t K, double radius, double std) {
  const std::string name = cat("ring:", K, ":", radius, ":", std);
  WIDEMAX_CHECK(K >= 1, "--mixture ", name, ": K must be at least 1");
  WIDEMAX_CHECK(std::isfinite(radius) && radius >= 0, "--mixture ", name,
                ": the radius must be >= 0");
  WIDEMAX_CHECK(std::isfinite(std) && std > 0, "--mixture ", name,
                ": the standard deviation must be positive");
  std::vector<double> w(static_cast<std::size_t>(K), 1.0 / static_cast<double>(K)), mu, cov;
  for (std::int64_t k = 0; k < K; ++k) {
    const double a = 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(K);
    mu.push_back(radius * std::cos(a));
    mu.push_back(radius * std::sin(a));
    cov.insert(cov.end(), {std * std, 0.0, 0.0, std * std});
  }
  return make_mixture(std::move(w), std::move(mu), std::move(cov), K, 2, name);
}

Mixture random_mixture(std::int64_t K, std::int64_t d, std::uint64_t seed) {
  const std::string name = cat("random:", K, ":", d);
  WIDEMAX_CHECK(K >= 1 && d >= 1, "--mixture ", name, ": K and D must be at least 1");
  std::vector<double> w, mu, cov;
  double sum = 0;
  for (std::int64_t k = 0; k < K; ++k) {
    const auto base = static_cast<std::uint64_t>(3 * k);
    w.push_back(1.0 + rng::uniform(seed, kStreamPreset, base, 0));
    sum += w.back();
    for (std::int64_t j = 0; j < d; ++j)
      mu.push_back(2.0 * rng::normal(seed, kStreamPreset, base + 1, static_cast<std::uint64_t>(j)));
    std::vector<double> G(static_cast<std::size_t>(d * d));
    for (std::int64_t q = 0; q < d * d; ++q)
      G[q] = rng::normal(seed, kStreamPreset, base + 2, static_cast<std::uint64_t>(q));
    for (std::int64_t a = 0; a < d; ++a)
      for (std::int64_t b = 0; b < d; ++b) {
        double g = 0;
        for (std::int64_t c = 0; c < d; ++c) g += G[a * d + c] * G[b * d + c];
        cov.push_back(0.09 * ((a == b ? 0.5 : 0.0) + g / static_cast<double>(d)));
      }
  }
  for (auto& x : w) x /= sum;
  return make_mixture(std::move(w), std::move(mu), std::move(cov), K, d, name);
}

Mixture load_mixture(const std::string& spec, std::uint64_t seed) {
  const char* presets = "presets: ring8, ring:K[:RADIUS[:STD]], random:K:D; or a JSON file";
  if (spec == "ring8") {
    Mixture mix = ring_mixture(8, 2.0, 0.2);
    mix.source = spec;
    return mix;
  }
  const auto parts = split_colons(spec);
  const std::string what = "--mixture " + spec;
  if (parts[0] == "ring" && parts.size() >= 2 && parts.size() <= 4) {
    const std::int64_t K = parse_int(parts[1], what);
    const double radius = parts.size() > 2 ? parse_real(parts[2], what) : 2.0;
    const double std = parts.size() > 3 ? parse_real(parts[3], what) : 0.2;
    return ring_mixture(K, radius, std);
  }
  if (parts[0] == "random" && parts.size() == 3)
    return random_mixture(parse_int(parts[1], what), parse_int(parts[2], what), seed);
  WIDEMAX_CHECK_HINT(parts[0] != "ring" && parts[0] != "random", presets, "--mixture '", spec,
                     "': malformed preset");
  std::error_code ec;
  WIDEMAX_CHECK_HINT(std::filesystem::is_regular_file(spec, ec), presets, "--mixture '", spec,
                     "' is neither a preset nor a readable file");
  return mixture_from_json(read_text_file(spec), "--mixture " + spec);
}

std::int64_t sample_mixture(const Mixture& mix, std::uint64_t seed, std::uint64_t index,
                            double* x) {
  const std::int64_t d = mix.d;
  const double u = rng::uniform(seed, kStreamComponent, index, 0);
  std::int64_t k = 0;
  double cum = mix.weights[0];
  while (k + 1 < mix.K && u >= cum) cum += mix.weights[++k];
  const double* mu = mix.mean(k);
  const double* E = mix.evecs.data() + k * d * d;
  const double* lam = mix.evals.data() + k * d;
  for (std::int64_t i = 0; i < d; ++i) x[i] = mu[i];
  for (std::int64_t j = 0; j < d; ++j) {
    const double c =
        std::sqrt(lam[j]) * rng::normal(seed, kStreamPoint, index, static_cast<std::uint64_t>(j));
    for (std::int64_t i = 0; i < d; ++i) x[i] += c * E[j * d + i];
  }
  return k;
}

double log_density(const Mixture& mix, const double* x, double t) {
  std::vector<double> logp(static_cast<std::size_t>(mix.K)),
      w(static_cast<std::size_t>(mix.K * mix.d));
  component_terms(mix, x, t, logp.data(), w.data());
  return log_sum_exp(logp.data(), mix.K) -
         0.5 * static_cast<double>(mix.d) * std::log(2.0 * std::numbers::pi);
}

void score(const Mixture& mix, const double* X, const double* t, std::int64_t n, double* S) {
  const std::int64_t d = mix.d, K = mix.K;
#pragma omp parallel
  {
    std::vector<double> logp(static_cast<std::size_t>(K)), w(static_cast<std::size_t>(K * d));
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < n; ++p) {
      component_terms(mix, X + p * d, t[p], logp.data(), w.data());
      const double lse = log_sum_exp(logp.data(), K);
      double* s = S + p * d;
      std::fill(s, s + d, 0.0);
      for (std::int64_t k = 0; k < K; ++k) {
        const double r = std::exp(logp[k] - lse);
        const double* E = mix.evecs.data() + k * d * d;
        for (std::int64_t j = 0; j < d; ++j) {
          const double c = r * w[k * d + j];
          for (std::int64_t i = 0; i < d; ++i) s[i] -= c * E[j * d + i];
        }
      }
    }
  }
}

Mixture gaussian_fit(const Mixture& mix) {
  const std::int64_t d = mix.d;
  std::vector<double> m(static_cast<std::size_t>(d), 0.0), C(static_cast<std::size_t>(d * d), 0.0);
  for (std::int64_t k = 0; k < mix.K; ++k)
    for (std::int64_t i = 0; i < d; ++i) m[i] += mix.weights[k] * mix.mean(k)[i];
  for (std::int64_t k = 0; k < mix.K; ++k)
    for (std::int64_t i = 0; i < d; ++i)
      for (std::int64_t j = 0; j < d; ++j)
        C[i * d + j] += mix.weights[k] * (mix.covs[(k * d + i) * d + j] +
                                          (mix.mean(k)[i] - m[i]) * (mix.mean(k)[j] - m[j]));
  return make_mixture({1.0}, std::move(m), std::move(C), 1, d, "the Gaussian fit of " + mix.source);
}

Mixture gaussian_fit(const std::vector<double>& points, std::int64_t d) {
  const auto n = static_cast<std::int64_t>(points.size()) / d;
  WIDEMAX_CHECK(n >= 1, "gaussian_fit: no points");
  std::vector<double> m(static_cast<std::size_t>(d), 0.0), C(static_cast<std::size_t>(d * d), 0.0);
  for (std::int64_t p = 0; p < n; ++p)
    for (std::int64_t i = 0; i < d; ++i) m[i] += points[p * d + i] / static_cast<double>(n);
  for (std::int64_t p = 0; p < n; ++p)
    for (std::int64_t i = 0; i < d; ++i)
      for (std::int64_t j = 0; j < d; ++j)
        C[i * d + j] +=
            (points[p * d + i] - m[i]) * (points[p * d + j] - m[j]) / static_cast<double>(n);
  double top = 0;
  for (std::int64_t i = 0; i < d; ++i) top = std::max(top, C[i * d + i]);
  for (std::int64_t i = 0; i < d; ++i) C[i * d + i] += 1e-9 * std::max(top, 1e-300);
  return make_mixture({1.0}, std::move(m), std::move(C), 1, d, "the Gaussian fit of the data");
}

std::int64_t nearest_mode(const Mixture& mix, const double* x) {
  std::int64_t best = 0;
  double best_d2 = INFINITY;
  for (std::int64_t k = 0; k < mix.K; ++k) {
    double d2 = 0;
    for (std::int64_t i = 0; i < mix.d; ++i) {
      const double diff = x[i] - mix.mean(k)[i];
      d2 += diff * diff;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      best = k;
    }
  }
  return best;
}

}  // namespace widemax::diffusion
