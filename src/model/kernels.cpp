// Blocked forward/backward kernels. See kernels.hpp for shapes and the contract.
// Each pass is a driver and a set of row bodies. The driver walks a thread's blocks (A transposed,
// the logits and gradient GEMMs, where the cache tile is) and hands each block to one body, picked
// once per call by activation, logit cache, train-A and d_out class, so that no body branches on
// them inside its row loop. A body is the fused sweep over one block's logits while they are in
// cache. Its loops are the floating-point work outside BLAS and their order of operations is part
// of the contract (runs are compared bitwise), so two variants share a helper only where their
// arithmetic is the same. Not here: communication and the merge across ranks (comm/), allocation
// (Workspace, made once by the caller).
#include "widemax/model/kernels.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "widemax/core/error.hpp"
#include "widemax/model/blas.hpp"
#include "widemax/model/merge.hpp"
#include "widemax/model/vec_exp.hpp"

namespace widemax::model {

namespace {

// How a body forms the thin products with A (d_out of them per neuron): fused into the sweeps
// for d_out 1 and 2, one loop per k up to kWideDOut, one BLAS product per block from there.
enum class DOut { kOne, kTwo, kLoops, kWide };

template <class T>
DOut d_out_class(std::int64_t d_out) {
  if (d_out >= Workspace<T>::kWideDOut) return DOut::kWide;
  return d_out == 1 ? DOut::kOne : d_out == 2 ? DOut::kTwo : DOut::kLoops;
}

// At (d_out, cols) = the block's A (cols, d_out), transposed.
template <class T>
void transpose_block(const T* Ab, std::int64_t cols, std::int64_t d_out, T* At) {
  for (std::int64_t j = 0; j < cols; ++j)
    for (std::int64_t k = 0; k < d_out; ++k) At[k * cols + j] = Ab[j * d_out + k];
}

// Block b of a shard: neurons [r0, r0 + cols), and A of the block k-major, Ak[k * cols + j], so
// that the inner loops run over neurons with unit stride (At is the thread's scratch for it).
template <class T>
struct Block {
  std::int64_t r0, cols;
  const T* Ak;
};

template <class T>
Block<T> open_block(std::int64_t b, std::int64_t B, std::int64_t m_loc, std::int64_t d_out,
                    const T* A, T* At) {
  const std::int64_t r0 = b * B, cols = std::min(B, m_loc - r0);
  const T* Ab = A + r0 * d_out;
  if (d_out > 1) transpose_block(Ab, cols, d_out, At);
  return {r0, cols, d_out > 1 ? At : Ab};
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
  WIDEMAX_ASSERT(n >= 1 && block >= 1 && d_out >= 1 && threads >= 1, "bad workspace shape n=", n,
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

// ---- Pass 1 --------------------------------------------------------------------------------

namespace {

// One block of pass 1 as its thread sees it.
template <class T>
struct Pass1Block {
  std::int64_t n, cols, d_out;
  int width;
  const T* Ak;  // (d_out, cols)
  const T* Z;   // (n, cols): the logits
  T* E;         // (n, cols): the activations; Z itself unless the cache takes them
  T* rec;       // (n, width): this thread's records
  T* shift;     // (n): the cache's shifts of this block, or null
  T* U;         // (n, d_out): scratch for E Ak^T when d_out is wide
};

template <class T>
using Pass1Rows = void (*)(const Pass1Block<T>&);

// The per-row helpers of both passes are always inlined: they run inside a body's row loop, so
// splitting a body into them must not cost a call per row.

// e = exp(z - M) with M the row's new running maximum, after rescaling what the record
// accumulated under the old one; returns M.
template <class T>
[[gnu::always_inline]] inline T exp_row(const T* z, T* e, T* rec, int width, std::int64_t cols) {
  T bmax = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : bmax)
  for (std::int64_t j = 0; j < cols; ++j) bmax = z[j] > bmax ? z[j] : bmax;
  const T m_new = std::max(rec[0], bmax);
  if (rec[0] != m_new) {
    const T f = rec[0] == -std::numeric_limits<T>::infinity() ? T(0) : std::exp(rec[0] - m_new);
    for (int k = 1; k < width; ++k) rec[k] *= f;
    rec[0] = m_new;
  }
  vec_exp_shifted(z, m_new, e, cols);
  return m_new;
}

// u_k += sum_j Ak[k, j] e_j, one sweep per k.
template <class T>
[[gnu::always_inline]] inline void add_u_loops(const T* Ak, const T* e, T* rec, std::int64_t cols,
                                               std::int64_t d_out) {
  for (std::int64_t k = 0; k < d_out; ++k) {
    T u = 0;
#pragma omp simd reduction(+ : u)
    for (std::int64_t j = 0; j < cols; ++j) u += Ak[k * cols + j] * e[j];
    rec[2 + k] += u;
  }
}

// Wide d_out: U (n, d_out) = E (n, cols) Ak^T for the whole block, added to the records' u.
template <class T>
void add_u_blas(const Pass1Block<T>& p) {
  blas::product(p.n, p.d_out, p.cols, p.E, p.Ak, /*b_transposed=*/true, p.U);
  for (std::int64_t i = 0; i < p.n; ++i)
    for (std::int64_t k = 0; k < p.d_out; ++k) p.rec[i * p.width + 2 + k] += p.U[i * p.d_out + k];
}

// softmax and exp (the same record): (M, S, u) of the block merged into the thread's records.
// S and u take one sweep for d_out 1 and 2, one per sum otherwise.
template <class T, DOut kD>
void exp_partial_rows(const Pass1Block<T>& p) {
  const std::int64_t cols = p.cols;
  const T* Ak = p.Ak;
  for (std::int64_t i = 0; i < p.n; ++i) {
    const T* z = p.Z + i * cols;
    T* e = p.E + i * cols;
    T* rec = p.rec + i * p.width;
    const T m = exp_row(z, e, rec, p.width, cols);
    if (p.shift) p.shift[i] = m;
    if constexpr (kD == DOut::kOne) {
      T sum = 0, u0 = 0;
#pragma omp simd reduction(+ : sum, u0)
      for (std::int64_t j = 0; j < cols; ++j) {
        sum += e[j];
        u0 += Ak[j] * e[j];
      }
      rec[1] += sum;
      rec[2] += u0;
    } else if constexpr (kD == DOut::kTwo) {
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
    } else {
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (std::int64_t j = 0; j < cols; ++j) sum += e[j];
      rec[1] += sum;
      if constexpr (kD == DOut::kLoops) add_u_loops(Ak, e, rec, cols, p.d_out);
    }
  }
  if constexpr (kD == DOut::kWide) add_u_blas(p);
}

// relu: e = max(z, 0) and u += A e; the record is a plain sum, so M stays 0 and S is unused.
template <class T, DOut kD>
void relu_partial_rows(const Pass1Block<T>& p) {
  const std::int64_t cols = p.cols;
  for (std::int64_t i = 0; i < p.n; ++i) {
    const T* z = p.Z + i * cols;
    T* e = p.E + i * cols;
    T* rec = p.rec + i * p.width;
    rec[0] = T(0);
#pragma omp simd
    for (std::int64_t j = 0; j < cols; ++j) e[j] = z[j] > T(0) ? z[j] : T(0);
    if constexpr (kD != DOut::kWide) add_u_loops(p.Ak, e, rec, cols, p.d_out);
  }
  if constexpr (kD == DOut::kWide) add_u_blas(p);
}

// The body for a call, picked once: the driver then makes one indirect call per block, none per
// row.
template <class T>
Pass1Rows<T> pick_partial_rows(const Shape& s) {
  const DOut k = d_out_class<T>(s.d_out);
  if (s.activation == Activation::kRelu)  // its sweeps fuse nothing: loops for every thin d_out
    return k == DOut::kWide ? relu_partial_rows<T, DOut::kWide>
                            : relu_partial_rows<T, DOut::kLoops>;
  switch (k) {
    case DOut::kOne:
      return exp_partial_rows<T, DOut::kOne>;
    case DOut::kTwo:
      return exp_partial_rows<T, DOut::kTwo>;
    case DOut::kLoops:
      return exp_partial_rows<T, DOut::kLoops>;
    case DOut::kWide:
      break;
  }
  return exp_partial_rows<T, DOut::kWide>;
}

}  // namespace

template <class T>
void forward_partial(const Shape& s, const Operands<T>& op, Workspace<T>& ws,
                     const LogitCache<T>* cache) {
  const std::int64_t n = op.n, m_loc = op.m_loc, d = s.d, d_out = s.d_out, B = ws.block();
  const int width = s.record_width();
  const bool wide = d_out >= Workspace<T>::kWideDOut;
  WIDEMAX_ASSERT(n <= ws.n(), "workspace holds ", ws.n(), " samples, got ", n);
  if (n == 0) return;  // no samples here (a mini-batch held by other grid rows)
  const std::int64_t nb = block_count(m_loc, B);
  const Pass1Rows<T> rows = pick_partial_rows<T>(s);

#pragma omp parallel num_threads(ws.threads())
  {
    const int t = omp_get_thread_num();
    T* mine = ws.partial(t);
    for (std::int64_t i = 0; i < n; ++i) set_identity(mine + i * width, width);

#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < nb; ++b) {
      const Block<T> blk = open_block(b, B, m_loc, d_out, op.A, ws.at(t));
      // The GEMM writes into this thread's L2-resident scratch; the activations go to the cache
      // when there is one (written once here and only read by pass 2, so the tile is never
      // written back twice), else over the logits in place.
      T* Z = ws.z(t);
      T* E = cache ? cache->tiles + blk.r0 * n : Z;
      blas::logits(n, blk.cols, d, op.X, op.W + blk.r0 * d, Z);
      rows({n, blk.cols, d_out, width, blk.Ak, Z, E, mine, cache ? cache->shift + b * n : nullptr,
            wide ? ws.u_all(t) : nullptr});
    }
  }
  // Reduce the threads' partials in a fixed order, so the result depends only on the thread count.
  for (std::int64_t i = 0; i < n; ++i) set_identity(op.records + i * width, width);
  for (int t = 0; t < ws.threads(); ++t) {
    const T* p = ws.partial(t);
    for (std::int64_t i = 0; i < n; ++i) merge_record(p + i * width, op.records + i * width, width);
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

// ---- Pass 2 --------------------------------------------------------------------------------

namespace {

// One block of pass 2 as its thread sees it.
template <class T>
struct Pass2Block {
  std::int64_t n, cols, d_out;
  int width;
  T c;              // the output scale
  const T* Ak;      // (d_out, cols)
  T* gAk;           // (d_out, cols): dA of the block, k-major; null when A is not trained
  const T* Z;       // (n, cols): the logits, or pass 1's cached activations of them
  T* G;             // (n, cols): dL/dZ of the block; Z itself unless cached
  const T* shift;   // (n): the cache's shifts of this block, or null
  const T* merged;  // (n, width)
  const T* R;       // (n, d_out)
  const T* rf;      // (n)
  const T* AR;      // (n, cols): A R of the block by one BLAS product, when d_out is wide
  T* ar;            // (cols): scratch for one row's A R otherwise
};

template <class T>
using Pass2Rows = void (*)(const Pass2Block<T>&);

// ar_j = (A R_i)_j, the thin product of row i: a row of the block's BLAS product when d_out is
// wide, else vectorised over neurons into the scratch.
template <class T, bool kWide>
[[gnu::always_inline]] inline const T* thin_product(const Pass2Block<T>& p, std::int64_t i) {
  if constexpr (kWide) {
    return p.AR + i * p.cols;
  } else {
    const std::int64_t cols = p.cols;
    const T* Ak = p.Ak;
    const T* Ri = p.R + i * p.d_out;
    T* ar = p.ar;
#pragma omp simd
    for (std::int64_t j = 0; j < cols; ++j) ar[j] = Ak[j] * Ri[0];
    for (std::int64_t k = 1; k < p.d_out; ++k)
#pragma omp simd
      for (std::int64_t j = 0; j < cols; ++j) ar[j] += Ak[k * cols + j] * Ri[k];
    return ar;
  }
}

// dA[k, j] += c R_ik phi_j for a row's activations phi (softmax's s, exp's exp(z)).
template <class T>
[[gnu::always_inline]] inline void add_dA(const Pass2Block<T>& p, std::int64_t i, const T* phi) {
  const std::int64_t cols = p.cols;
  const T* Ri = p.R + i * p.d_out;
  T* gAk = p.gAk;
  for (std::int64_t k = 0; k < p.d_out; ++k) {
    const T cr = p.c * Ri[k];
#pragma omp simd
    for (std::int64_t j = 0; j < cols; ++j) gAk[k * cols + j] += cr * phi[j];
  }
}

// softmax, row i: the factor f that turns z into s = exp(z - M) / S. From the cache z holds
// exp(z - shift); otherwise the exp is taken here, into g (which is z).
template <class T, bool kCache>
[[gnu::always_inline]] inline T softmax_factor(const Pass2Block<T>& p, std::int64_t i, const T* z,
                                               T* g) {
  const T* rec = p.merged + i * p.width;
  T f = T(1) / rec[1];
  if constexpr (kCache) {
    f *= std::exp(p.shift[i] - rec[0]);
  } else {
    vec_exp_shifted(z, rec[0], g, p.cols);
  }
  return f;
}

// softmax: phi = s_r = exp(z - M) / S;  G = s (c (A R)_r - <R, F>);  dA = c s R.
template <class T, bool kCache, bool kTrainA, bool kWide>
void softmax_rows(const Pass2Block<T>& p) {
  const std::int64_t cols = p.cols;
  const T c = p.c;
  for (std::int64_t i = 0; i < p.n; ++i) {
    const T* z = p.Z + i * cols;
    T* g = p.G + i * cols;
    const T* ar = thin_product<T, kWide>(p, i);
    T f = softmax_factor<T, kCache>(p, i, z, g);
    const T rfi = p.rf[i];
    if constexpr (kTrainA) {  // dA needs s itself: scale first
#pragma omp simd
      for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * f;
      z = g;
      f = T(1);
      add_dA(p, i, z);
    }
#pragma omp simd
    for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * (f * (c * ar[j] - rfi));
  }
}

// softmax, W only, d_out 1 or 2: one sweep forms the thin product, the scaling and G (an inner
// loop over k would not vectorise).
template <class T, bool kCache, int kD>
void softmax_fused_rows(const Pass2Block<T>& p) {
  const std::int64_t cols = p.cols;
  const T c = p.c;
  const T* Ak = p.Ak;
  for (std::int64_t i = 0; i < p.n; ++i) {
    const T* z = p.Z + i * cols;
    T* g = p.G + i * cols;
    const T* Ri = p.R + i * p.d_out;
    const T f = softmax_factor<T, kCache>(p, i, z, g);
    const T rfi = p.rf[i];
    if constexpr (kD == 1) {
      const T fa = f * c * Ri[0], frf = f * rfi;
#pragma omp simd
      for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * (fa * Ak[j] - frf);
    } else {
      const T fa0 = f * c * Ri[0], fa1 = f * c * Ri[1], frf = f * rfi;
      const T* A1 = Ak + cols;
#pragma omp simd
      for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * (fa0 * Ak[j] + fa1 * A1[j] - frf);
    }
  }
}

// exp: phi = exp(z);  G = c exp(z) (A R)_r;  dA = c exp(z) R.
template <class T, bool kCache, bool kTrainA, bool kWide>
void exp_rows(const Pass2Block<T>& p) {
  const std::int64_t cols = p.cols;
  const T c = p.c;
  for (std::int64_t i = 0; i < p.n; ++i) {
    const T* z = p.Z + i * cols;
    T* g = p.G + i * cols;
    const T* ar = thin_product<T, kWide>(p, i);
    if constexpr (kCache) {  // z holds exp(z - shift)
      const T f = std::exp(p.shift[i]);
#pragma omp simd
      for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] * f;
    } else {
      vec_exp(z, g, cols);
    }
    if constexpr (kTrainA) add_dA(p, i, g);
#pragma omp simd
    for (std::int64_t j = 0; j < cols; ++j) g[j] = c * g[j] * ar[j];
  }
}

// relu: phi = max(z, 0);  G = c 1[z > 0] (A R)_r;  dA = c max(z, 0) R. A cached tile holds
// max(z, 0), which gives the same, so there is no cache variant.
template <class T, bool kTrainA, bool kWide>
void relu_rows(const Pass2Block<T>& p) {
  const std::int64_t cols = p.cols;
  const T c = p.c;
  for (std::int64_t i = 0; i < p.n; ++i) {
    const T* z = p.Z + i * cols;
    T* g = p.G + i * cols;
    const T* ar = thin_product<T, kWide>(p, i);
    if constexpr (kTrainA) {
      const T* Ri = p.R + i * p.d_out;
      T* gAk = p.gAk;
      for (std::int64_t k = 0; k < p.d_out; ++k) {
        const T cr = c * Ri[k];
#pragma omp simd
        for (std::int64_t j = 0; j < cols; ++j) gAk[k * cols + j] += z[j] > T(0) ? cr * z[j] : T(0);
      }
    }
#pragma omp simd
    for (std::int64_t j = 0; j < cols; ++j) g[j] = z[j] > T(0) ? c * ar[j] : T(0);
  }
}

// The body for a call, picked once (as for pass 1). Every (activation, cache, train-A, d_out
// class) maps to one body; relu's has no cache variant and the fused softmax sweeps no dA.
template <class T, bool kCache, bool kTrainA>
Pass2Rows<T> pick_rows(Activation a, DOut k) {
  constexpr bool kFuse = !kTrainA;
  const bool wide = k == DOut::kWide;
  switch (a) {
    case Activation::kSoftmax:
      if (kFuse && k == DOut::kOne) return softmax_fused_rows<T, kCache, 1>;
      if (kFuse && k == DOut::kTwo) return softmax_fused_rows<T, kCache, 2>;
      return wide ? softmax_rows<T, kCache, kTrainA, true>
                  : softmax_rows<T, kCache, kTrainA, false>;
    case Activation::kExp:
      return wide ? exp_rows<T, kCache, kTrainA, true> : exp_rows<T, kCache, kTrainA, false>;
    case Activation::kRelu:
      break;
  }
  return wide ? relu_rows<T, kTrainA, true> : relu_rows<T, kTrainA, false>;
}

template <class T>
Pass2Rows<T> pick_backward_rows(const Shape& s, bool cached, bool train_a) {
  const DOut k = d_out_class<T>(s.d_out);
  if (cached)
    return train_a ? pick_rows<T, true, true>(s.activation, k)
                   : pick_rows<T, true, false>(s.activation, k);
  return train_a ? pick_rows<T, false, true>(s.activation, k)
                 : pick_rows<T, false, false>(s.activation, k);
}

}  // namespace

template <class T>
void backward(const Shape& s, const Operands<T>& op, Workspace<T>& ws, const LogitCache<T>* cache,
              BlockRange blocks) {
  const std::int64_t n = op.n, m_loc = op.m_loc, d = s.d, d_out = s.d_out, B = ws.block();
  const std::int64_t b_end = blocks.end < 0 ? block_count(m_loc, B) : blocks.end;
  const bool wide = d_out >= Workspace<T>::kWideDOut;
  if (n == 0) {  // this rank holds none of the batch: its share of the gradient is zero
    const std::int64_t r_begin = blocks.begin * B, r_end = std::min(m_loc, b_end * B);
    std::fill(op.gW + r_begin * d, op.gW + r_end * d, T(0));
    if (op.gA) std::fill(op.gA + r_begin * d_out, op.gA + r_end * d_out, T(0));
    return;
  }
  const Pass2Rows<T> rows = pick_backward_rows<T>(s, cache != nullptr, op.gA != nullptr);
  const T c = static_cast<T>(output_scale(s));

#pragma omp parallel num_threads(ws.threads())
  {
    const int t = omp_get_thread_num();
    T* AR = wide ? ws.ar_all(t) : nullptr;

#pragma omp for schedule(static)
    for (std::int64_t b = blocks.begin; b < b_end; ++b) {
      const Block<T> blk = open_block(b, B, m_loc, d_out, op.A, ws.at(t));
      const std::int64_t r0 = blk.r0, cols = blk.cols;
      // dA of the block is accumulated k-major too, and transposed into gA at the end.
      T* gAk = op.gA ? (d_out > 1 ? ws.gat(t) : op.gA + r0) : nullptr;
      if (gAk) std::fill(gAk, gAk + cols * d_out, T(0));
      // The block's logits, or pass 1's exponentials of them (then no GEMM and no exp here). G
      // goes to this thread's scratch: the cache is only read, so its tile is not written back.
      T* G = ws.z(t);
      const T* Z = cache ? cache->tiles + r0 * n : G;
      if (!cache) blas::logits(n, cols, d, op.X, op.W + r0 * d, G);
      if (wide) blas::product(n, cols, d_out, op.R, blk.Ak, /*b_transposed=*/false, AR);
      rows({n, cols, d_out, s.record_width(), c, blk.Ak, gAk, Z, G,
            cache ? cache->shift + b * n : nullptr, op.records, op.R, op.rf, AR, ws.ar(t)});
      blas::weight_grad(n, cols, d, G, op.X, op.gW + r0 * d);
      if (op.gA && d_out > 1)
        for (std::int64_t j = 0; j < cols; ++j)
          for (std::int64_t k = 0; k < d_out; ++k) op.gA[(r0 + j) * d_out + k] = gAk[k * cols + j];
      if (blocks.hook.fn && t == 0) blocks.hook.fn(blocks.hook.ctx);
    }
  }
}

#define WIDEMAX_INSTANTIATE(T)                                                                     \
  template class Workspace<T>;                                                                     \
  template void forward_partial<T>(const Shape&, const Operands<T>&, Workspace<T>&,                \
                                   const LogitCache<T>*);                                          \
  template void finalize_output<T>(const Shape&, std::int64_t, const T*, T*);                      \
  template void backward<T>(const Shape&, const Operands<T>&, Workspace<T>&, const LogitCache<T>*, \
                            BlockRange);
WIDEMAX_INSTANTIATE(double)
WIDEMAX_INSTANTIATE(float)
#undef WIDEMAX_INSTANTIATE

}  // namespace widemax::model
