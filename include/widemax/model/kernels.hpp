// Forward and backward kernels of the two-layer network over one rank's neurons (docs/design.md
// §2.2). Plain functions over local buffers: no communicator, no allocation (scratch comes from a
// Workspace made once). The passes are blocked over neurons: a block's logits Z_blk = X W_blk^T
// (n x block) are the only n-by-something scratch, so memory is O(n x block), never O(n x m).
// OpenMP threads take whole blocks (static schedule); the BLAS calls inside run single-threaded
// (OpenBLAS's OpenMP build does so inside a parallel region).
//
// Shapes (all row-major):
//   X (n, d)   W (m_loc, d)   A (m_loc, d_out)
//   part, merged (n, d_out + 2): per-sample records (M, S, u) of model/merge.hpp
//   F, Y, R (n, d_out)   rf (n) = <R_i, F_i>
//   gW (m_loc, d)   gA (m_loc, d_out)
#pragma once

#include <cstdint>
#include <vector>

#include "widemax/model/model.hpp"

namespace widemax::model {

// Neurons per block so that one block's logits (n x block) fill about `budget_bytes`
// (default: half of a 2 MiB L2), a multiple of 16, and at least one block per thread.
std::int64_t auto_block(std::int64_t n, std::int64_t m_loc, int threads, std::size_t elem_bytes,
                        std::size_t budget_bytes = std::size_t{1} << 20);

// Per-thread scratch, allocated once for a given (n, block, d_out, threads) and reused every step.
template <class T>
class Workspace {
 public:
  Workspace(std::int64_t n, std::int64_t block, std::int64_t d_out, int threads);
  std::int64_t n() const { return n_; }
  std::int64_t block() const { return block_; }
  int threads() const { return threads_; }
  T* z(int t) { return z_.data() + static_cast<std::size_t>(t) * n_ * block_; }
  T* ar(int t) { return ar_.data() + static_cast<std::size_t>(t) * block_; }
  T* partial(int t) { return partial_.data() + static_cast<std::size_t>(t) * n_ * width_; }
  // A block's A and dA, k-major (d_out, block): unit-stride inner loops over neurons.
  T* at(int t) { return at_.data() + static_cast<std::size_t>(t) * 2 * (width_ - 2) * block_; }
  T* gat(int t) { return at(t) + (width_ - 2) * block_; }
  // (n, block) scratch for (A R) of a block, and (n, d_out) for its u, when d_out is wide enough
  // for a BLAS product to beat the loops (kWideDOut).
  T* ar_all(int t) { return ar_all_.data() + static_cast<std::size_t>(t) * n_ * block_; }
  T* u_all(int t) { return u_all_.data() + static_cast<std::size_t>(t) * n_ * (width_ - 2); }
  static constexpr std::int64_t kWideDOut = 4;
  std::size_t bytes() const {
    return (z_.size() + ar_.size() + partial_.size() + at_.size() + ar_all_.size() +
            u_all_.size()) *
           sizeof(T);
  }

 private:
  std::int64_t n_, block_, width_;
  int threads_;
  std::vector<T> z_, ar_, partial_, at_, ar_all_, u_all_;
};

// Optional store of pass 1's per-element results, so that pass 2 neither recomputes the logits
// GEMM nor the exp (docs/design.md §2.2: "or reuses it when a memory budget allows keeping it"). It
// costs n x m_loc numbers, so it is for runs where that fits (--logit-cache); without it the
// scratch stays O(n x block).
//   tiles: block b's (n, cols) tile starts at tiles + b * block * n: exp(z - shift) for softmax
//          and exp, max(z, 0) for relu.
//   shift (blocks, n): the running maximum each row of a tile was exponentiated against.
template <class T>
struct LogitCache {
  T* tiles = nullptr;
  T* shift = nullptr;
};

// A callback the backward pass makes on its master thread after each of that thread's blocks: the
// caller advances its non-blocking all-reduces there (MPI progresses only when entered; with
// MPI_THREAD_FUNNELED the master thread is the one allowed to). The kernels stay MPI-free.
struct BlockHook {
  void (*fn)(void*) = nullptr;
  void* ctx = nullptr;
};

// Number of neuron blocks of a shard; the backward pass can be run over a range of them.
inline std::int64_t block_count(std::int64_t m_loc, std::int64_t block) {
  return (m_loc + block - 1) / block;
}

// What a pass reads and writes, for n samples and this rank's m_loc neurons (shapes above). Pass 1
// reads X, W, A and writes records; pass 2 reads X, W, A, records, R, rf and writes gW and gA. The
// fields are in the order the passes take them, so that a call site is one positional literal,
// {n, m_loc, X, W, A, part} or {n, m_loc, X, W, A, merged, R, rf, gW, gA}; left out means null.
template <class T>
struct Operands {
  std::int64_t n = 0, m_loc = 0;
  const T* X = nullptr;   // (n, d)
  const T* W = nullptr;   // (m_loc, d)
  const T* A = nullptr;   // (m_loc, d_out)
  T* records = nullptr;   // (n, d_out + 2): pass 1 writes `part` here, pass 2 reads `merged`
  const T* R = nullptr;   // (n, d_out) = F - Y
  const T* rf = nullptr;  // (n) = <R_i, F_i>
  T* gW = nullptr;        // (m_loc, d)
  T* gA = nullptr;        // (m_loc, d_out), or null when A is not trained
};

// The blocks of a shard that one backward call does, [begin, end) (end < 0: to the last), and the
// hook it calls between them.
struct BlockRange {
  std::int64_t begin = 0, end = -1;
  BlockHook hook = {};
};

// Pass 1: the partial records of this rank's neurons for every sample, written to op.records.
// For softmax and exp the record is (M, S, u) of docs/design.md §2.1; for relu it is (0, 0, u) with
// u = sum_r a_r max(z_r, 0), which the same merge sums exactly.
template <class T>
void forward_partial(const Shape& s, const Operands<T>& op, Workspace<T>& ws,
                     const LogitCache<T>* cache = nullptr);

// From the merged (global) records, the network output F (n, d_out).
template <class T>
void finalize_output(const Shape& s, std::int64_t n, const T* merged, T* F);

// Pass 2: dL/dW into op.gW (and dL/dA into op.gA when it is not null) for
// L = 1/2 sum_i ||F_i - y_i||^2, given the merged records in op.records, the residuals R = F - Y
// and rf_i = <R_i, F_i>. Z_blk is recomputed, unless `cache` holds pass 1's tiles (the same
// samples' forward_partial with the same cache), which pass 2 only reads. Only the blocks of
// `blocks` are done, so that a caller can reduce the finished rows of gW/gA while the rest
// computes.
template <class T>
void backward(const Shape& s, const Operands<T>& op, Workspace<T>& ws,
              const LogitCache<T>* cache = nullptr, BlockRange blocks = {});

}  // namespace widemax::model
