// NTK kernels. See ntk.hpp. Blocks of neurons are walked in order; within a block the rows of J are
// formed by OpenMP threads, and the GEMM for the logits and the SYRK run on BLAS's own threads.
#include "widemax/ntk/ntk.hpp"

#include <cblas.h>

#include <cmath>

#include "widemax/core/error.hpp"
#include "widemax/model/blas.hpp"
#include "widemax/model/vec_exp.hpp"

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                        double* w, double* work, const int* lwork, int* iwork, const int* liwork,
                        int* info);

namespace widemax::ntk {

template <class T>
void accumulate_jjt(const model::Shape& s, std::int64_t n, std::int64_t m_loc, const T* X,
                    const T* W, const T* A, const T* merged, const T* F, double* H,
                    model::Workspace<T>& ws, NtkWorkspace& nws) {
  const std::int64_t d = s.d, d_out = s.d_out, B = ws.block(), N = n * d_out;
  const int width = s.record_width();
  const double c = model::output_scale(s);
  WIDEMAX_ASSERT(n <= ws.n(), "NTK workspace holds ", ws.n(), " samples, got ", n);
  T* Z = ws.z(0);
  double* J = nws.J();
  for (std::int64_t r0 = 0; r0 < m_loc; r0 += B) {
    const std::int64_t cols = std::min(B, m_loc - r0);
    const T* Ab = A + r0 * d_out;
    model::blas::logits(n, cols, d, X, W + r0 * d, Z);
#pragma omp parallel for schedule(static) num_threads(ws.threads())
    for (std::int64_t i = 0; i < n; ++i) {
      T* z = Z + i * cols;
      const T* rec = merged + i * width;
      if (s.activation == model::Activation::kSoftmax) {
        const T shift = rec[0];
        for (std::int64_t j = 0; j < cols; ++j) z[j] -= shift;
        model::vec_exp(z, z, cols);
        const double inv_s = 1.0 / static_cast<double>(rec[1]);
        for (std::int64_t k = 0; k < d_out; ++k) {
          double* row = J + (i * d_out + k) * cols;
          const double f = static_cast<double>(F[i * d_out + k]);
          for (std::int64_t j = 0; j < cols; ++j)
            row[j] = static_cast<double>(z[j]) * inv_s * (c * Ab[j * d_out + k] - f);
        }
      } else {
        if (s.activation == model::Activation::kExp) model::vec_exp(z, z, cols);
        for (std::int64_t k = 0; k < d_out; ++k) {
          double* row = J + (i * d_out + k) * cols;
          for (std::int64_t j = 0; j < cols; ++j) {
            const double slope = s.activation == model::Activation::kExp
                                     ? static_cast<double>(z[j])
                                     : (z[j] > T(0) ? 1.0 : 0.0);
            row[j] = c * Ab[j * d_out + k] * slope;
          }
        }
      }
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, N, cols, 1.0, J, cols, 1.0, H, N);
  }
}

template <class T>
void apply_gram(std::int64_t n, std::int64_t d, std::int64_t d_out, const T* X, double* H) {
  const std::int64_t N = n * d_out;
  std::vector<double> gram(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i; j < n; ++j) {
      double g = 0;
      for (std::int64_t q = 0; q < d; ++q) g += static_cast<double>(X[i * d + q]) * X[j * d + q];
      gram[i * n + j] = gram[j * n + i] = g;
    }
  for (std::int64_t a = 0; a < N; ++a)
    for (std::int64_t b = a; b < N; ++b) {
      H[a * N + b] *= gram[(a / d_out) * n + b / d_out];
      H[b * N + a] = H[a * N + b];
    }
}

std::vector<double> symmetric_eigenvalues(std::vector<double> H, std::int64_t N) {
  WIDEMAX_ASSERT(static_cast<std::int64_t>(H.size()) == N * N, "eigenvalues: H is not N x N");
  const int n = static_cast<int>(N);
  std::vector<double> w(static_cast<std::size_t>(N));
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  dsyevd_("N", "U", &n, H.data(), &n, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
  lwork = static_cast<int>(work_query) + 1;
  liwork = iwork_query + 1;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_("N", "U", &n, H.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  WIDEMAX_ASSERT(info == 0, "LAPACK dsyevd failed with info = ", info);
  return w;
}

SymmetricEigen symmetric_eigen(std::vector<double> H, std::int64_t N) {
  WIDEMAX_ASSERT(static_cast<std::int64_t>(H.size()) == N * N, "eigen: H is not N x N");
  const int n = static_cast<int>(N);
  SymmetricEigen e;
  e.values.resize(static_cast<std::size_t>(N));
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  dsyevd_("V", "U", &n, H.data(), &n, e.values.data(), &work_query, &lwork, &iwork_query, &liwork,
          &info);
  lwork = static_cast<int>(work_query) + 1;
  liwork = iwork_query + 1;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_("V", "U", &n, H.data(), &n, e.values.data(), work.data(), &lwork, iwork.data(), &liwork,
          &info);
  WIDEMAX_ASSERT(info == 0, "LAPACK dsyevd failed with info = ", info);
  e.vectors = std::move(H);  // dsyevd overwrites H with the eigenvectors
  return e;
}

double linearised_loss(const std::vector<double>& lambda, const std::vector<double>& c2, double eta,
                       std::int64_t t) {
  double s = 0;
  for (std::size_t k = 0; k < lambda.size(); ++k) {
    const double f = 1.0 - eta * lambda[k];
    // f^{2t} through exp/log keeps t large without a loop; f = 0 (eta lambda = 1) decays at once.
    const double decay = f == 0 ? (t == 0 ? 1.0 : 0.0) : std::exp(2.0 * t * std::log(std::abs(f)));
    s += decay * c2[k];
  }
  return 0.5 * s;
}

double frobenius_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t q = 0; q < a.size(); ++q) s += (a[q] - b[q]) * (a[q] - b[q]);
  return std::sqrt(s);
}

double frobenius(const std::vector<double>& a) {
  double s = 0;
  for (double v : a) s += v * v;
  return std::sqrt(s);
}

template <class T>
void entropy_partial(const model::Shape& s, std::int64_t n, std::int64_t m_loc, const T* X,
                     const T* W, const T* merged, double* out, model::Workspace<T>& ws) {
  const std::int64_t d = s.d, B = ws.block();
  const int width = s.record_width();
  T* Z = ws.z(0);
  for (std::int64_t r0 = 0; r0 < m_loc; r0 += B) {
    const std::int64_t cols = std::min(B, m_loc - r0);
    model::blas::logits(n, cols, d, X, W + r0 * d, Z);
#pragma omp parallel for schedule(static) num_threads(ws.threads())
    for (std::int64_t i = 0; i < n; ++i) {
      const T* rec = merged + i * width;
      const double M = static_cast<double>(rec[0]);
      const double logS = std::log(static_cast<double>(rec[1]));
      const double inv_s = 1.0 / static_cast<double>(rec[1]);
      T* z = Z + i * cols;
      double acc = 0;
      for (std::int64_t j = 0; j < cols; ++j) {
        const double shifted = static_cast<double>(z[j]) - M;  // log s_r + log S
        acc += std::exp(shifted) * inv_s * (shifted - logS);
      }
      out[i] += acc;
    }
  }
}

#define WIDEMAX_INSTANTIATE(T)                                                                \
  template void accumulate_jjt<T>(const model::Shape&, std::int64_t, std::int64_t, const T*,  \
                                  const T*, const T*, const T*, const T*, double*,            \
                                  model::Workspace<T>&, NtkWorkspace&);                       \
  template void apply_gram<T>(std::int64_t, std::int64_t, std::int64_t, const T*, double*);   \
  template void entropy_partial<T>(const model::Shape&, std::int64_t, std::int64_t, const T*, \
                                   const T*, const T*, double*, model::Workspace<T>&);
WIDEMAX_INSTANTIATE(double)
WIDEMAX_INSTANTIATE(float)
#undef WIDEMAX_INSTANTIATE

}  // namespace widemax::ntk
