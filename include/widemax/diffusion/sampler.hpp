// Reverse-time samplers of the forward process dx = -x dt + sqrt(2) dW (docs/design.md §1.3), from
// t = T down to t_min on a geometric time grid (uniform in log t: small steps where p_t has
// detail):
//   SDE (Euler-Maruyama):  x <- x + h (x + 2 s(x, t)) + sqrt(2 h) z
//   probability-flow ODE (Heun): dx/dt = -x - s(x, t), integrated backwards with Heun's method
// with h = t_i - t_{i+1}. x_T ~ N(0, I) and the increments z come from the counter-based generator
// keyed by the global sample index, so a sample does not depend on how points are split over
// ranks. The score is a callback over a batch of points at one time: the exact score of a
// mixture, or the network (whose evaluation is collective: every rank of a grid row must call
// the sampler with the same points, and every rank the same number of steps).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace widemax::diffusion {

enum class SamplerKind { kSde, kOde };
SamplerKind parse_sampler(const std::string& name);  // sde | ode; errors name --sampler
std::string to_string(SamplerKind k);

// t_0 = T > t_1 > ... > t_steps = t_min, t_i = T (t_min / T)^(i / steps).
std::vector<double> sampler_grid(double t_min, double t_max, std::int64_t steps);

// S (n, d) = s(X, t) for X (n, d).
using ScoreFn = std::function<void(const double* X, std::int64_t n, double t, double* S)>;

// Draws the n samples with global indices first .. first + n - 1 into X (n, d). Returns the number
// of score evaluations (steps for the SDE, 2 steps for the ODE).
std::int64_t reverse_sample(SamplerKind kind, const ScoreFn& score, const std::vector<double>& grid,
                            std::uint64_t first, std::int64_t n, std::int64_t d, std::uint64_t seed,
                            double* X);

}  // namespace widemax::diffusion
