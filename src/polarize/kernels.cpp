// Value-softmax kernels. See polarize/kernels.hpp. Tokens are processed in blocks of kBlock: each
// block's exponentials go through the vectorised exp into a per-thread buffer, and blocks are
// combined in index order, so results are the same for any OpenMP thread count.
#include "widemax/polarize/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/model/merge.hpp"
#include "widemax/model/vec_exp.hpp"

namespace widemax::polarize {

namespace {

constexpr std::int64_t kBlock = 4096;

std::int64_t block_count(std::int64_t t) {
  return (t + kBlock - 1) / kBlock;
}

// log(1 + exp(x)) without overflow.
double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

constexpr EnumName<Loss> kLosses[] = {{Loss::kLogistic, "logistic"},
                                      {Loss::kSquare, "square"},
                                      {Loss::kCrossEntropy, "cross-entropy"}};

}  // namespace

Loss parse_loss(const std::string& name) {
  return parse_enum(kLosses, name, "--loss", "loss");
}

std::string to_string(Loss loss) {
  return enum_name(kLosses, loss);
}

void partial_record(const double* V, const double* a, std::int64_t t, int d, double* record) {
  const int w = record_width(d);
  const std::int64_t nb = block_count(t);
  std::vector<double> blocks(static_cast<std::size_t>(nb * w));
#pragma omp parallel
  {
    std::vector<double> e(static_cast<std::size_t>(std::min(t, kBlock)));
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t j0 = b * kBlock, n = std::min(kBlock, t - j0);
      double* r = blocks.data() + b * w;
      double M = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = 0; j < n; ++j) M = std::max(M, a[j0 + j]);
      for (std::int64_t j = 0; j < n; ++j) e[j] = a[j0 + j] - M;
      model::vec_exp(e.data(), e.data(), n);
      double S = 0, E = 0;
      double* u = r + 2;
      for (int k = 0; k < d; ++k) u[k] = 0;
      for (std::int64_t j = 0; j < n; ++j) {
        const double ej = e[j];
        S += ej;
        E += ej * a[j0 + j];
        const double* v = V + (j0 + j) * d;
        for (int k = 0; k < d; ++k) u[k] += ej * v[k];
      }
      r[0] = M;
      r[1] = S;
      r[w - 1] = E;
    }
  }
  model::set_identity(record, w);
  for (std::int64_t b = 0; b < nb; ++b) model::merge_record(blocks.data() + b * w, record, w);
}

Readout read_record(const double* record, int d, double* y) {
  const double M = record[0], S = record[1], E = record[d + 2];
  for (int k = 0; k < d; ++k) y[k] = record[2 + k] / S;
  Readout r;
  r.max_prob = 1.0 / S;  // the largest alpha_j is e^{M - M} / S
  // Clamped: a one-hot alpha can round to a tiny negative value.
  r.entropy = std::max(0.0, std::log(S) + (M - E / S));
  return r;
}

double output_loss(Loss loss, const double* y, const double* beta, const double* p_star, int d,
                   double* g) {
  switch (loss) {
    case Loss::kLogistic: {
      double z = 0;
      for (int k = 0; k < d; ++k) z += beta[k] * y[k];
      // sigmoid(-z) = 1 / (1 + e^z), written so that neither branch overflows.
      const double s = z > 0 ? std::exp(-z) / (1 + std::exp(-z)) : 1 / (1 + std::exp(z));
      for (int k = 0; k < d; ++k) g[k] = -s * beta[k];
      return softplus(-z);
    }
    case Loss::kSquare: {
      double L = 0;
      for (int k = 0; k < d; ++k) {
        g[k] = y[k] - beta[k];
        L += 0.5 * g[k] * g[k];
      }
      return L;
    }
    case Loss::kCrossEntropy: {
      double ymax = -std::numeric_limits<double>::infinity(), mass = 0, py = 0;
      for (int k = 0; k < d; ++k) {
        ymax = std::max(ymax, y[k]);
        mass += p_star[k];
        py += p_star[k] * y[k];
      }
      double Z = 0;
      for (int k = 0; k < d; ++k) Z += std::exp(y[k] - ymax);
      const double lse = ymax + std::log(Z);
      for (int k = 0; k < d; ++k) g[k] = std::exp(y[k] - lse) * mass - p_star[k];
      return lse * mass - py;
    }
  }
  return 0;
}

void local_gradient(const double* V, const double* a, std::int64_t t, int d, double M, double S,
                    const double* g, double gy, double* gV, double* ga) {
  const std::int64_t nb = block_count(t);
  const double log_s = std::log(S);
#pragma omp parallel
  {
    std::vector<double> e(static_cast<std::size_t>(std::min(t, kBlock)));
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t j0 = b * kBlock, n = std::min(kBlock, t - j0);
      for (std::int64_t j = 0; j < n; ++j) e[j] = a[j0 + j] - M - log_s;
      model::vec_exp(e.data(), e.data(), n);  // alpha_j
      for (std::int64_t j = 0; j < n; ++j) {
        const double alpha = e[j];
        const double* v = V + (j0 + j) * d;
        double* gv = gV + (j0 + j) * d;
        double vg = 0;
        for (int k = 0; k < d; ++k) {
          vg += v[k] * g[k];
          gv[k] = alpha * g[k];
        }
        ga[j0 + j] = alpha * (vg - gy);
      }
    }
  }
}

void descend(double* x, const double* gx, std::int64_t n, double lr) {
#pragma omp parallel for simd schedule(static)
  for (std::int64_t i = 0; i < n; ++i) x[i] -= lr * gx[i];
}

double sum_squares(const double* x, std::int64_t n) {
  const std::int64_t nb = block_count(n);
  std::vector<double> part(static_cast<std::size_t>(nb), 0.0);
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < nb; ++b) {
    const std::int64_t i0 = b * kBlock, i1 = std::min(n, i0 + kBlock);
    double s = 0;
    for (std::int64_t i = i0; i < i1; ++i) s += x[i] * x[i];
    part[b] = s;
  }
  double s = 0;
  for (double p : part) s += p;
  return s;
}

}  // namespace widemax::polarize
