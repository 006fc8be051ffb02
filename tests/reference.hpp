// An independent, deliberately naive reference of the two-layer network (docs/design.md §1.1) for
// tests: plain loops in long double over the whole model, no blocking, no merge, no BLAS. Tests
// compare the blocked, sharded kernels against it and take finite differences of its loss.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace widemax::ref {

struct RefNet {
  std::int64_t m, d, d_out;
  int activation;         // 0 softmax, 1 exp, 2 relu
  long double c;          // output scale
  std::vector<double> W;  // (m, d)
  std::vector<double> A;  // (m, d_out)
};

// F (n, d_out) for X (n, d).
inline std::vector<long double> ref_forward(const RefNet& net, const std::vector<double>& X,
                                            std::int64_t n) {
  std::vector<long double> F(static_cast<std::size_t>(n * net.d_out), 0.0L);
  std::vector<long double> z(static_cast<std::size_t>(net.m));
  for (std::int64_t i = 0; i < n; ++i) {
    long double zmax = -INFINITY;
    for (std::int64_t r = 0; r < net.m; ++r) {
      long double acc = 0;
      for (std::int64_t j = 0; j < net.d; ++j)
        acc += static_cast<long double>(X[i * net.d + j]) * net.W[r * net.d + j];
      z[r] = acc;
      zmax = std::max(zmax, acc);
    }
    long double denom = 0;
    if (net.activation == 0)
      for (std::int64_t r = 0; r < net.m; ++r) denom += std::exp(z[r] - zmax);
    for (std::int64_t r = 0; r < net.m; ++r) {
      long double phi = 0;
      if (net.activation == 0) phi = std::exp(z[r] - zmax) / denom;
      if (net.activation == 1) phi = std::exp(z[r]);
      if (net.activation == 2) phi = z[r] > 0 ? z[r] : 0;
      for (std::int64_t k = 0; k < net.d_out; ++k)
        F[i * net.d_out + k] += net.c * net.A[r * net.d_out + k] * phi;
    }
  }
  return F;
}

// L = 1/2 sum ||F - Y||^2.
inline long double ref_loss(const RefNet& net, const std::vector<double>& X,
                            const std::vector<double>& Y, std::int64_t n) {
  const auto F = ref_forward(net, X, n);
  long double L = 0;
  for (std::size_t q = 0; q < F.size(); ++q) L += 0.5L * (F[q] - Y[q]) * (F[q] - Y[q]);
  return L;
}

// Relative 2-norm difference ||a - b|| / ||b||.
template <class VA, class VB>
double rel_diff(const VA& a, const VB& b) {
  long double num = 0, den = 0;
  for (std::size_t q = 0; q < b.size(); ++q) {
    const long double diff = static_cast<long double>(a[q]) - static_cast<long double>(b[q]);
    num += diff * diff;
    den += static_cast<long double>(b[q]) * static_cast<long double>(b[q]);
  }
  return static_cast<double>(std::sqrt(num / (den > 0 ? den : 1)));
}

}  // namespace widemax::ref
