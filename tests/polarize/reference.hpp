// A naive long-double reference of the value-softmax model (docs/design.md §1.2), written from the
// formulas and sharing no code with src/polarize: softmax by the textbook formula with a max shift,
// the losses as written in docs/design.md §1.2, the gradients grad_V = g alpha^T and grad_a = alpha
// (.) (V^T g - <V^T g, alpha>) (the unfolded form), and plain GD. V is (T, d) row-major: row j is
// the column v_j of the model's V, as in the kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "widemax/polarize/kernels.hpp"

namespace widemax::testing_polarize {

using LD = long double;

inline std::vector<LD> softmax(const std::vector<double>& a) {
  const LD m = *std::max_element(a.begin(), a.end());
  std::vector<LD> s(a.size());
  LD z = 0;
  for (std::size_t j = 0; j < a.size(); ++j) z += s[j] = std::exp(static_cast<LD>(a[j]) - m);
  for (auto& v : s) v /= z;
  return s;
}

inline LD entropy(const std::vector<double>& a) {
  LD h = 0;
  for (LD p : softmax(a))
    if (p > 0) h -= p * std::log(p);
  return h;
}

inline std::vector<LD> output(const std::vector<double>& V, const std::vector<double>& a, int d) {
  const auto al = softmax(a);
  std::vector<LD> y(d, 0);
  for (std::size_t j = 0; j < a.size(); ++j)
    for (int k = 0; k < d; ++k) y[k] += V[j * d + k] * al[j];
  return y;
}

// g receives dL/dy when non-null.
inline LD loss_of_y(widemax::polarize::Loss loss, const std::vector<LD>& y,
                    const std::vector<double>& beta, const std::vector<double>& p_star,
                    std::vector<LD>* g = nullptr) {
  const int d = static_cast<int>(y.size());
  if (g) g->assign(d, 0);
  if (loss == widemax::polarize::Loss::kLogistic) {
    LD z = 0;
    for (int k = 0; k < d; ++k) z += beta[k] * y[k];
    if (g)
      for (int k = 0; k < d; ++k) (*g)[k] = -beta[k] / (1 + std::exp(z));
    return std::log1p(std::exp(-z));
  }
  if (loss == widemax::polarize::Loss::kSquare) {
    LD L = 0;
    for (int k = 0; k < d; ++k) {
      L += (y[k] - beta[k]) * (y[k] - beta[k]) / 2;
      if (g) (*g)[k] = y[k] - beta[k];
    }
    return L;
  }
  LD ymax = *std::max_element(y.begin(), y.end()), z = 0;
  for (int k = 0; k < d; ++k) z += std::exp(y[k] - ymax);
  LD L = 0;
  for (int k = 0; k < d; ++k) {
    const LD logp = y[k] - ymax - std::log(z);
    L -= p_star[k] * logp;
    if (g) (*g)[k] = std::exp(logp) - p_star[k];  // sum p* = 1 in every test
  }
  return L;
}

inline LD loss(widemax::polarize::Loss name, const std::vector<double>& V,
               const std::vector<double>& a, int d, const std::vector<double>& beta,
               const std::vector<double>& p_star) {
  return loss_of_y(name, output(V, a, d), beta, p_star);
}

// One GD step in long double arithmetic, rounded back to double parameters. Returns the loss
// before the step.
inline LD gd_step(widemax::polarize::Loss name, std::vector<double>& V, std::vector<double>& a,
                  int d, const std::vector<double>& beta, const std::vector<double>& p_star,
                  double lr) {
  const std::size_t T = a.size();
  const auto al = softmax(a);
  const auto y = output(V, a, d);
  std::vector<LD> g;
  const LD L = loss_of_y(name, y, beta, p_star, &g);
  std::vector<LD> vtg(T, 0);
  LD mean = 0;
  for (std::size_t j = 0; j < T; ++j) {
    for (int k = 0; k < d; ++k) vtg[j] += V[j * d + k] * g[k];
    mean += vtg[j] * al[j];
  }
  for (std::size_t j = 0; j < T; ++j) {
    for (int k = 0; k < d; ++k)
      V[j * d + k] = static_cast<double>(V[j * d + k] - lr * g[k] * al[j]);
    a[j] = static_cast<double>(a[j] - lr * al[j] * (vtg[j] - mean));
  }
  return L;
}

}  // namespace widemax::testing_polarize
