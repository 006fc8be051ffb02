// The BLAS products of a block of neurons, for float and double: part of the model module's
// interface, used by its kernels and by the NTK, the performance model and the benchmark, which
// must time exactly the calls the kernels make. Shapes: X (n, d), W_blk (cols, d), Z and G
// (n, cols), gW_blk (cols, d), row-major.
#pragma once

#include <cblas.h>

#include <cstdint>

namespace widemax::model::blas {

// Z = X W_blk^T: the block's logits.
inline void logits(std::int64_t n, std::int64_t cols, std::int64_t d, const double* X,
                   const double* W, double* Z) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, cols, d, 1.0, X, d, W, d, 0.0, Z, cols);
}
inline void logits(std::int64_t n, std::int64_t cols, std::int64_t d, const float* X,
                   const float* W, float* Z) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, cols, d, 1.0f, X, d, W, d, 0.0f, Z, cols);
}

// gW_blk = G^T X.
inline void weight_grad(std::int64_t n, std::int64_t cols, std::int64_t d, const double* G,
                        const double* X, double* gW) {
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols, d, n, 1.0, G, cols, X, d, 0.0, gW, d);
}
inline void weight_grad(std::int64_t n, std::int64_t cols, std::int64_t d, const float* G,
                        const float* X, float* gW) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cols, d, n, 1.0f, G, cols, X, d, 0.0f, gW,
              d);
}

// C (rows, cols) = A (rows, inner) B (inner, cols), or with B given transposed (cols, inner).
inline void product(std::int64_t rows, std::int64_t cols, std::int64_t inner, const double* A,
                    const double* B, bool b_transposed, double* C) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, b_transposed ? CblasTrans : CblasNoTrans, rows, cols,
              inner, 1.0, A, inner, B, b_transposed ? inner : cols, 0.0, C, cols);
}
inline void product(std::int64_t rows, std::int64_t cols, std::int64_t inner, const float* A,
                    const float* B, bool b_transposed, float* C) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, b_transposed ? CblasTrans : CblasNoTrans, rows, cols,
              inner, 1.0f, A, inner, B, b_transposed ? inner : cols, 0.0f, C, cols);
}

}  // namespace widemax::model::blas
