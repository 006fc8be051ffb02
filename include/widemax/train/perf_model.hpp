// The compute half of the performance model (the communication half is comm/cost_model.hpp).
// A step's compute on one core is modelled per (sample, neuron) pair from measured rates:
//   seconds_per_pair = G_logits * 2d / R_logits + 2d / R_grad + E * (1 / R_exp) + other
// with G_logits = 2 logits GEMMs without the logit cache (pass 2 recomputes them) and 1 with it,
// E = 2 exps per pair without the cache and 1 with it, and `other` the rest of the fused sweep
// (merge, thin d_out products, scaling; with the cache, its memory traffic) found by timing the
// fused step once and subtracting the rest. Rates are measured on one thread, the way the kernels
// call the GEMMs (one block per thread, single-threaded BLAS).
// Deliberately not here: memory-bandwidth limits of many threads sharing a socket (the model is
// linear in cores), and any credit for overlapping the gradient all-reduce.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "widemax/comm/communicator.hpp"
#include "widemax/comm/grid.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/model/model.hpp"
#include "widemax/train/config.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

struct KernelRates {
  double logits_flops = 0;  // FLOP/s of Z_blk = X W_blk^T, one core
  double grad_flops = 0;    // FLOP/s of gW_blk = G^T X
  double exp_per_s = 0;     // vector exps per second
  double other_s = 0;       // the rest of the fused sweep, seconds per pair
};

// A whole-width shard on synthetic inputs (x ~ N(0, I/d), y = 0, Gaussian init): what the
// benchmarks and the rate calibration run on.
template <class T>
struct SyntheticShard {
  model::Shape shape;
  std::vector<T> X, Y;  // (n, d), (n, d_out)
  model::Params<T> params;
};
template <class T>
SyntheticShard<T> synthetic_shard(std::int64_t n, std::int64_t d, std::int64_t d_out,
                                  std::int64_t m);

// The training step itself, Trainer::compute_gradient() (full batch, W only, with or without the
// logit cache), of a network on one rank: a 1x1 grid over MPI_COMM_SELF, where the merge
// all-reduce has nothing to combine. What the benchmarks and the rate calibration time, so that
// they time exactly what a run executes. Local.
template <class T>
class OneRankStep {
 public:
  OneRankStep(const SyntheticShard<T>& shard, std::int64_t block, int threads, bool logit_cache);
  ~OneRankStep();
  OneRankStep(const OneRankStep&) = delete;
  OneRankStep& operator=(const OneRankStep&) = delete;
  void step();

 private:
  std::unique_ptr<comm::Grid> grid_;
  std::unique_ptr<Trainer<T>> tr_;
};

// Seconds of compute per (sample, neuron) pair on one core.
double seconds_per_pair(const KernelRates& r, std::int64_t d, bool logit_cache);

// Times the kernels and the fused step on this rank with one thread at (n, d, d_out, m)
// in `precision`; `m` a few blocks suffice. Local: call it on one rank while the others wait
// without spinning (wait_idle).
KernelRates measure_kernel_rates(std::int64_t n, std::int64_t d, std::int64_t d_out, std::int64_t m,
                                 Precision precision, bool logit_cache, int repeats = 3);

// Rank 0 measures the rates (one thread) while the other ranks wait in a sleeping poll, so that
// on an oversubscribed node they do not steal its core; then every rank has the result.
// Collective over `comm`.
KernelRates measure_kernel_rates_on_root(const comm::Communicator& comm, std::int64_t n,
                                         std::int64_t d, std::int64_t d_out, std::int64_t m,
                                         Precision precision, bool logit_cache, int repeats = 3);

}  // namespace widemax::train
