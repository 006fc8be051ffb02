// The two BLAS products of a block of neurons, for float and double; private to src/ (model/ and
// ntk/ kernels). Shapes: X (n, d), W_blk (cols, d), Z and G (n, cols), gW_blk (cols, d), row-major.
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

}  // namespace widemax::model::blas
