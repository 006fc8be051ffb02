// The empirical NTK of the two-layer network with respect to W (docs/design.md §3), and the entropy
// of the hidden softmax. Kernels only: plain functions over local buffers, no communicator. The sum
// over neurons is split across ranks; the caller (train/trainer) all-reduces the partial H.
//
//   dF_k(x_i)/dw_r = J[(i,k), r] x_i, with J[(i,k), r] = dF_k(x_i)/dz_r:
//     softmax: s_r(x_i) (c A[r,k] - F_k(x_i))   exp: c A[r,k] exp(z_r)   relu: c A[r,k] 1[z_r > 0]
//   H[(i,k),(j,l)] = <x_i, x_j> * sum_r J[(i,k),r] J[(j,l),r]
// Index (i, k) is i * d_out + k, as in H.npy. H is (N, N) row-major in double, N = n d_out.
#pragma once

#include <cstdint>
#include <vector>

#include "widemax/model/kernels.hpp"

namespace widemax::ntk {

// Scratch for ntk_accumulate: one block of J in double, (n d_out, block).
class NtkWorkspace {
 public:
  NtkWorkspace(std::int64_t n, std::int64_t d_out, std::int64_t block)
      : J_(static_cast<std::size_t>(n * d_out * block)) {}
  double* J() { return J_.data(); }
  std::size_t bytes() const { return J_.size() * sizeof(double); }

 private:
  std::vector<double> J_;
};

// H_partial += sum over this rank's neurons of J J^T (the upper triangle is what SYRK writes;
// the lower is filled by apply_gram). X (n, d); merged (n, d_out + 2) global records; F (n, d_out).
// Uses ws.z(0) of the model workspace for the block logits.
template <class T>
void accumulate_jjt(const model::Shape& s, std::int64_t n, std::int64_t m_loc, const T* X,
                    const T* W, const T* A, const T* merged, const T* F, double* H,
                    model::Workspace<T>& ws, NtkWorkspace& nws);

// H[(i,k),(j,l)] *= <x_i, x_j>, and H made symmetric from its upper triangle.
template <class T>
void apply_gram(std::int64_t n, std::int64_t d, std::int64_t d_out, const T* X, double* H);

// Eigenvalues of a symmetric (N, N) matrix, ascending (LAPACK dsyevd).
std::vector<double> symmetric_eigenvalues(std::vector<double> H, std::int64_t N);

// Eigenvalues (ascending) and eigenvectors of a symmetric (N, N) matrix: vectors is (N, N)
// column-major, column k the unit eigenvector of values[k] (LAPACK dsyevd, jobz = V).
struct SymmetricEigen {
  std::vector<double> values, vectors;
};
SymmetricEigen symmetric_eigen(std::vector<double> H, std::int64_t N);

// The loss of gradient descent on the linearised model, L_lin(t) = 1/2 sum_k (1 - eta
// lambda_k)^{2t} c_k^2, from the initial residual's squared projections c_k^2 = <u_k, r_0>^2 on
// the eigenvectors of H_0 (F_lin(t) - y = (I - eta H_0)^t r_0). The closed form the width
// experiments hold training against: no training step enters it.
double linearised_loss(const std::vector<double>& lambda, const std::vector<double>& c2, double eta,
                       std::int64_t t);

// Frobenius norm of a - b, and of a.
double frobenius_diff(const std::vector<double>& a, const std::vector<double>& b);
double frobenius(const std::vector<double>& a);

// Per sample, this rank's part of sum_r s_r log s_r (softmax only), from the merged records:
// out[i] += sum over local r of s_r (z_r - M_i - log S_i). The entropy is -(the sum over ranks).
template <class T>
void entropy_partial(const model::Shape& s, std::int64_t n, std::int64_t m_loc, const T* X,
                     const T* W, const T* merged, double* out, model::Workspace<T>& ws);

}  // namespace widemax::ntk
