// Blocked forward/backward kernels. See kernels.hpp for shapes and the contract.
// The per-element work (exp, the merge, the thin d_out products) is fused into one sweep over each
// block's logits while they are in cache; only the two d-sized products go to BLAS.
#include "widemax/model/kernels.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "widemax/model/blas.hpp"
#include "widemax/core/error.hpp"
#include "widemax/model/merge.hpp"
#include "widemax/model/vec_exp.hpp"

namespace widemax::model {

namespace {

// At (d_out, cols) = the block's A (cols, d_out), transposed.
template <class T>
void transpose_block(const T* Ab, std::int64_t cols, std::int64_t d_out, T* At) {
  for (std::int64_t j = 0; j < cols; ++j)
    for (std::int64_t k = 0; k < d_out; ++k) At[k * cols + j] = Ab[j * d_out + k];
}

}  // namespace

std::int64_t auto_block(std::int64_t n, std::int64_t m_loc, int threads, std::size_t elem_bytes,
                        std::size_t budget_bytes) {
  const std::int64_t by_cache = std::max<std::int64_t>(
      16, static_cast<std::int64_t>(budget_bytes / (elem_bytes * std::max<std::int64_t>(n, 1))) /
              16 * 16);
  const std::int64_t per_thread = (m_loc + threads - 1) / std::max(threads, 1);
  const std::int64_t by_threads = std::max<std::int64_t>(16, (per_thread + 15) / 16 * 16);
  return std::max<std::int64_t>(1, std::min({by_cache, by_threads, std::int64_t{8192}}));
}

template <class T>
Workspace<T>::Workspace(std::int64_t n, std::int64_t block, std::int64_t d_out, int threads)
    : n_(n), block_(block), width_(d_out + 2), threads_(threads) {
  WIDEMAX_CHECK(n >= 1 && block >= 1 && d_out >= 1 && threads >= 1, "bad workspace shape n=", n,
                " block=", block, " d_out=", d_out, " threads=", threads);
  z_.resize(static_cast<std::size_t>(threads) * n * block);
  ar_.resize(static_cast<std::size_t>(threads) * block);
  partial_.resize(static_cast<std::size_t>(threads) * n * width_);
  at_.resize(static_cast<std::size_t>(threads) * 2 * d_out * block);
  if (d_out >= kWideDOut) {
    ar_all_.resize(static_cast<std::size_t>(threads) * n * block);
    u_all_.resize(static_cast<std::size_t>(threads) * n * d_out);
  }
}

template <class T>
void forward_partial(const Shape& s, std::int64_t n, std::int64_t m_loc, const T* X, const T* W,
                     const T* A, T* part, Workspace<T>& ws, const LogitCache<T>* cache) {
  const std::int64_t d = s.d, d_out = s.d_out, B = ws.block();
  const int width = s.record_width();
  const bool relu = s.activation == Activation::kRelu;
  const bool wide = d_out >= Workspace<T>::kWideDOut;
  WIDEMAX_CHECK(n <= ws.n(), "workspace holds ", ws.n(), " samples, got ", n);
  if (n == 0) return;  // no samples here (a mini-batch held by other grid rows)
  const std::int64_t nb = block_count(m_loc, B);

#pragma omp parallel num_threads(ws.threads())
  {
    const int t = omp_get_thread_num();
    T* mine = ws.partial(t);
    for (std::int64_t i = 0; i < n; ++i) set_identity(mine + i * width, width);

#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t r0 = b * B;
      const std::int64_t cols = std::min(B, m_loc - r0);
      const T* Ab = A + r0 * d_out;
      T* At = ws.at(t);
      if (d_out > 1) transpose_block(Ab, cols, d_out, At);
      const T* Ak = d_out > 1 ? At : Ab;  // A of the block, k-major: Ak[k * cols + j]
      // The GEMM writes into this thread's L2-resident scratch; the activations go to the cache
      // when there is one (written once here and only read by pass 2, so the tile is never
      // written back twice), else over the logits in place.
      T* Z = ws.z(t);
      T* E = cache ? cache->tiles + r0 * n : Z;
      blas::logits(n, cols, d, X, W + r0 * d, Z);
      for (std::int64_t i = 0; i < n; ++i) {
        const T* z = Z + i * cols;
        T* e = E + i * cols;
        T* rec = mine + i * width;
        if (relu) {
          rec[0] = T(0);  // a relu record is a plain sum: M stays 0
#pragma omp simd
          for (std::int64_t j = 0; j < cols; ++j) e[j] = z[j] > T(0) ? z[j] : T(0);
          if (wide) continue;
          for (std::int64_t k = 0; k < d_out; ++k) {
            T u = 0;
#pragma omp simd reduction(+ : u)
            for (std::int64_t j = 0; j < cols; ++j) u += Ak[k * cols + j] * e[j];
            rec[2 + k] += u;
          }
          continue;
        }
        T bmax = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : bmax)
        for (std::int64_t j = 0; j < cols; ++j) bmax = z[j] > bmax ? z[j] : bmax;
        const T m_new = std::max(rec[0], bmax);
        if (rec[0] != m_new) {  // rescale what was accumulated under the old maximum
          const T f =
              rec[0] == -std::numeric_limits<T>::infinity() ? T(0) : std::exp(rec[0] - m_new);
          for (int k = 1; k < width; ++k) rec[k] *= f;
          rec[0] = m_new;
        }
        if (cache) cache->shift[b * n + i] = m_new;
        vec_exp_shifted(z, m_new, e, cols);
        if (d_out == 1) {  // S and u in one sweep
          T sum = 0, u0 = 0;
#pragma omp simd reduction(+ : sum, u0)
          for (std::int64_t j = 0; j < cols; ++j) {
            sum += e[j];
            u0 += Ak[j] * e[j];
          }
          rec[1] += sum;
          rec[2] += u0;
          continue;
        }
        if (d_out == 2) {
          T sum = 0, u0 = 0, u1 = 0;
#pragma omp simd reduction(+ : sum, u0, u1)
          for (std::int64_t j = 0; j < cols; ++j) {
            sum += e[j];
            u0 += Ak[j] * e[j];
            u1 += Ak[cols + j] * e[j];
          }
          rec[1] += sum;
          rec[2] += u0;
          rec[3] += u1;
          continue;
        }
        T sum = 0;
#pragma omp simd reduction(+ : sum)
        for (std::int64_t j = 0; j < cols; ++j) sum += e[j];
        rec[1] += sum;
        if (wide) continue;  // u by one BLAS product for the whole block, below
        for (std::int64_t k = 0; k < d_out; ++k) {
          T u = 0;
#pragma omp simd reduction(+ : u)
          for (std::int64_t j = 0; j < cols; ++j) u += Ak[k * cols + j] * e[j];
          rec[2 + k] += u;
        }
      }
      if (wide) {  // U (n, d_out) = E (n, cols) Ak^T, Ak (d_out, cols); E = exp(z - M)
        T* U = ws.u_all(t);
        blas::product(n, d_out, cols, E, Ak, /*b_transposed=*/true, U);
        for (std::int64_t i = 0; i < n; ++i)
          for (std::int64_t k = 0; k < d_out; ++k) mine[i * width + 2 + k] += U[i * d_out + k];
      }
    }
  }
  // Reduce the threads' partials in a fixed order, so the result depends only on the thread count.
  for (std::int64_t i = 0; i < n; ++i) set_identity(part + i * width, width);
  for (int t = 0; t < ws.threads(); ++t) {
    const T* p = ws.partial(t);
    for (std::int64_t i = 0; i < n; ++i) merge_record(p + i * width, part + i * width, width);
  }
}

template <class T>
void finalize_output(const Shape& s, std::int64_t n, const T* merged, T* F) {
  const int width = s.record_width();
  const T c = static_cast<T>(output_scale(s));
  for (std::int64_t i = 0; i < n; ++i) {
    const T* rec = merged + i * width;
    T factor = c;
    if (s.activation == Activation::kSoftmax) factor = c / rec[1];
    if (s.activation == Activation::kExp) factor = c * std::exp(rec[0]);
    for (std::int64_t k = 0; k < s.d_out; ++k) F[i * s.d_out + k] = factor * rec[2 + k];
  }
}

template <class T>
void backward(const Shape& s, std::int64_t n, std::int64_t m_loc, const T* X, const T* W,
              const T* A, const T* merged, const T* R, const T* rf, T* gW, T* gA, Workspace<T>& ws,
              const LogitCache<T>* cache, std::int64_t block_begin, std::int64_t block_end,
              BlockHook hook) {
  const std::int64_t d = s.d, d_out = s.d_out, B = ws.block();
  const int width = s.record_width();
  const T c = static_cast<T>(output_scale(s));
  const std::int64_t b_end = block_end < 0 ? block_count(m_loc, B) : block_end;
  const bool wide = d_out >= Workspace<T>::kWideDOut;
  if (n == 0) {  // this rank holds none of the batch: its share of the gradient is zero
    const std::int64_t r_begin = block_begin * B, r_end = std::min(m_loc, b_end * B);
    std::fill(gW + r_begin * d, gW + r_end * d, T(0));
    if (gA) std::fill(gA + r_begin * d_out, gA + r_end * d_out, T(0));
    return;
  }

#pragma omp parallel num_threads(ws.threads())
  {
    const int t = omp_get_thread_num();
    T* ar = ws.ar(t);
    T* AR = wide ? ws.ar_all(t) : nullptr;  // (n, cols): A R of the block, for wide d_out

#pragma omp for schedule(static)
    for (std::int64_t b = block_begin; b < b_end; ++b) {
      const std::int64_t r0 = b * B;
      const std::int64_t cols = std::min(B, m_loc - r0);
      const T* Ab = A + r0 * d_out;
      T* At = ws.at(t);
      if (d_out > 1) transpose_block(Ab, cols, d_out, At);
      const T* Ak = d_out > 1 ? At : Ab;  // A of the block, k-major: Ak[k * cols + j]
      // dA of the block is accumulated k-major too, and transposed into gA at the end.
      T* gAk = gA ? (d_out > 1 ? ws.gat(t) : gA + r0) : nullptr;
      if (gAk) std::fill(gAk, gAk + cols * d_out, T(0));
      // The block's logits, or pass 1's exponentials of them (then no GEMM and no exp here). G
      // goes to this thread's scratch: the cache is only read, so its tile is not written back.
      T* Gt = ws.z(t);
      const T* Zs = cache ? cache->tiles + r0 * n : Gt;
      if (!cache) blas::logits(n, cols, d, X, W + r0 * d, Gt);
      if (wide) blas::product(n, cols, d_out, R, Ak, /*b_transposed=*/false, AR);
      for (std::int64_t i = 0; i < n; ++i) {
        // z is the source row; G[i, :] goes to g (the same row unless cached).
        const T* z = Zs + i * cols;
        T* g = Gt + i * cols;
        const T* Ri = R + i * d_out;
        const T* rec = merged + i * width;
        // ar_j = (A R_i)_j, the thin product: vectorised over neurons, or a row of the block's
        // BLAS product AR when d_out is wide. (Softmax forms it inside its last sweep instead.)
        const bool fused = s.activation == Activation::kSoftmax && !gAk && d_out <= 2;
        if (wide) {
          ar = AR + i * cols;
        } else if (!fused) {
#pragma omp simd
          for (std::int64_t j = 0; j < cols; ++j) ar[j] = Ak[j] * Ri[0];
          for (std::int64_t k = 1; k < d_out; ++k)
#pragma omp simd
            for (std::int64_t j = 0; j < cols; ++j) ar[j] += Ak[k * cols + j] * Ri[k];
        }
        switch (s.activation) {
          case Activation::kSoftmax: {
            // phi = s_r = exp(z - M) / S;  G = s (c (A R)_r - <R, F>);  dA = c s R
            // f turns z (exp(z - shift) from the cache, or exp(z - M) after the exp) into s.
            T f = T(1) / rec[1];
            if (cache) {
              f *= std::exp(cache->shift[b * n + i] - rec[0]);
            } else {
              vec_exp_shifted(z, rec[0], g, cols);
            }
            const T rfi = rf[i];
            if (gAk) {  // dA needs s itself: scale first
#pragma omp simd
              for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * f;
              z = g;
              f = T(1);
              for (std::int64_t k = 0; k < d_out; ++k) {
                const T cr = c * Ri[k];
#pragma omp simd
                for (std::int64_t j = 0; j < cols; ++j) gAk[k * cols + j] += cr * z[j];
              }
            }
            if (!fused) {  // (fused needs d_out <= 2, so never the wide BLAS path)
#pragma omp simd
              for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * (f * (c * ar[j] - rfi));
            } else if (d_out == 1) {  // one sweep: the thin product, the scaling and G
              const T fa = f * c * Ri[0], frf = f * rfi;
#pragma omp simd
              for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * (fa * Ak[j] - frf);
            } else {  // d_out == 2 (an inner loop over k would not vectorise)
              const T fa0 = f * c * Ri[0], fa1 = f * c * Ri[1], frf = f * rfi;
              const T* A1 = Ak + cols;
#pragma omp simd
              for (std::int64_t j = 0; j < cols; ++j)
                g[j] = z[j] * (fa0 * Ak[j] + fa1 * A1[j] - frf);
            }
            break;
          }
          case Activation::kExp: {
            // phi = exp(z);  G = c exp(z) (A R)_r;  dA = c exp(z) R
            if (cache) {  // z holds exp(z - shift)
              const T f = std::exp(cache->shift[b * n + i]);
#pragma omp simd
              for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * f;
            } else {
              vec_exp(z, g, cols);
            }
            if (gAk)
              for (std::int64_t k = 0; k < d_out; ++k) {
                const T cr = c * Ri[k];
#pragma omp simd
                for (std::int64_t j = 0; j < cols; ++j) gAk[k * cols + j] += cr * g[j];
              }
#pragma omp simd
            for (std::int64_t j = 0; j < cols; ++j) g[j] = c * g[j] * ar[j];
            break;
          }
          case Activation::kRelu: {
            // phi = max(z, 0);  G = c 1[z > 0] (A R)_r;  dA = c max(z, 0) R
            // (a cached tile holds max(z, 0), which gives the same.)
            if (gAk)
              for (std::int64_t k = 0; k < d_out; ++k) {
                const T cr = c * Ri[k];
#pragma omp simd
                for (std::int64_t j = 0; j < cols; ++j)
                  gAk[k * cols + j] += z[j] > T(0) ? cr * z[j] : T(0);
              }
#pragma omp simd
            for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] > T(0) ? c * ar[j] : T(0);
            break;
          }
        }
      }
      blas::weight_grad(n, cols, d, Gt, X, gW + r0 * d);
      if (gA && d_out > 1)
        for (std::int64_t j = 0; j < cols; ++j)
          for (std::int64_t k = 0; k < d_out; ++k) gA[(r0 + j) * d_out + k] = gAk[k * cols + j];
      if (hook.fn && t == 0) hook.fn(hook.ctx);
    }
  }
}

#define WIDEMAX_INSTANTIATE(T)                                                                   \
  template class Workspace<T>;                                                                   \
  template void forward_partial<T>(const Shape&, std::int64_t, std::int64_t, const T*, const T*, \
                                   const T*, T*, Workspace<T>&, const LogitCache<T>*);           \
  template void finalize_output<T>(const Shape&, std::int64_t, const T*, T*);                    \
  template void backward<T>(const Shape&, std::int64_t, std::int64_t, const T*, const T*,        \
                            const T*, const T*, const T*, const T*, T*, T*, Workspace<T>&,       \
                            const LogitCache<T>*, std::int64_t, std::int64_t, BlockHook);
WIDEMAX_INSTANTIATE(double)
WIDEMAX_INSTANTIATE(float)
#undef WIDEMAX_INSTANTIATE

}  // namespace widemax::model
