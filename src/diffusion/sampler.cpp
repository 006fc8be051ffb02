// Reverse-time SDE and probability-flow ODE samplers. See sampler.hpp.
#include "widemax/diffusion/sampler.hpp"

#include <cmath>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/diffusion/streams.hpp"

namespace widemax::diffusion {

namespace {
constexpr EnumName<SamplerKind> kSamplers[] = {{SamplerKind::kSde, "sde"},
                                               {SamplerKind::kOde, "ode"}};
}  // namespace

SamplerKind parse_sampler(const std::string& name) {
  return parse_enum(
      kSamplers, name, "--sampler", "sampler",
      "choose sde (reverse-time SDE, Euler-Maruyama) or ode (probability flow, Heun)");
}

std::string to_string(SamplerKind k) {
  return enum_name(kSamplers, k);
}

std::vector<double> sampler_grid(double t_min, double t_max, std::int64_t steps) {
  WIDEMAX_CHECK(steps >= 1, "--sample-steps must be at least 1, got ", steps);
  WIDEMAX_CHECK(t_min > 0 && t_max > t_min, "sampler grid: need 0 < t_min < T");
  std::vector<double> g(static_cast<std::size_t>(steps + 1));
  const double ratio = std::log(t_min / t_max);
  for (std::int64_t i = 0; i <= steps; ++i)
    g[i] = t_max * std::exp(ratio * static_cast<double>(i) / static_cast<double>(steps));
  g.front() = t_max;
  g.back() = t_min;
  return g;
}

std::int64_t reverse_sample(SamplerKind kind, const ScoreFn& score, const std::vector<double>& grid,
                            std::uint64_t first, std::int64_t n, std::int64_t d, std::uint64_t seed,
                            double* X) {
  const auto steps = static_cast<std::int64_t>(grid.size()) - 1;
  const std::int64_t nd = n * d;
  for (std::int64_t p = 0; p < n; ++p)
    for (std::int64_t j = 0; j < d; ++j)
      X[p * d + j] = rng::normal(seed, kStreamSamplerInit, first + static_cast<std::uint64_t>(p),
                                 static_cast<std::uint64_t>(j));
  std::vector<double> S(static_cast<std::size_t>(nd)), Xp, S2;
  if (kind == SamplerKind::kOde) {
    Xp.resize(S.size());
    S2.resize(S.size());
  }
  std::int64_t evals = 0;
  for (std::int64_t i = 0; i < steps; ++i) {
    const double t = grid[i], h = grid[i] - grid[i + 1];
    score(X, n, t, S.data());
    ++evals;
    if (kind == SamplerKind::kSde) {
      const double noise = std::sqrt(2.0 * h);
#pragma omp parallel for schedule(static)
      for (std::int64_t p = 0; p < n; ++p)
        for (std::int64_t j = 0; j < d; ++j) {
          const std::int64_t q = p * d + j;
          const double z =
              rng::normal(seed, kStreamSamplerNoise, first + static_cast<std::uint64_t>(p),
                          static_cast<std::uint64_t>(i * d + j));
          X[q] += h * (X[q] + 2.0 * S[q]) + noise * z;
        }
    } else {
      // Backwards in time: x(t - h) = x(t) - h f(x, t), f = dx/dt = -x - s(x, t).
      for (std::int64_t q = 0; q < nd; ++q) Xp[q] = X[q] + h * (X[q] + S[q]);
      score(Xp.data(), n, grid[i + 1], S2.data());
      ++evals;
      for (std::int64_t q = 0; q < nd; ++q) X[q] += 0.5 * h * ((X[q] + S[q]) + (Xp[q] + S2[q]));
    }
  }
  return evals;
}

}  // namespace widemax::diffusion
