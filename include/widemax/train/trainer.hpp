// One rank's part of a training run: its samples, its neurons, the buffers of a step, and the
// step itself. This is the one place (with comm/) where collectives are issued, always in the same
// order on every rank:
//   1. forward_partial             (local)
//   2. softmax-merge all-reduce    (row communicator: ranks with the same samples)
//   3. backward                    (local)
//   4. gradient + loss all-reduces (column communicator, only when P_data > 1): non-blocking, one
//      per chunk of neurons, started as soon as backward has finished the chunk, so that they run
//      while the next chunk computes; waited on at the end of the step.
// The loop around it (batches, logging, run directory) is in loop.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "widemax/comm/grid.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/model/model.hpp"
#include "widemax/ntk/ntk.hpp"
#include "widemax/train/config.hpp"
#include "widemax/train/load.hpp"
#include "widemax/train/optimizer.hpp"

namespace widemax::train {

// The default learning rate when --lr is not given. For gd and momentum: 1 / T, where T estimates
// the trace of the NTK of one step's samples at initialisation, T = sum_i ||x_i||^2 g(x_i) (scaled
// by batch / n for mini-batches), from the expected diagonal of one sample with w_r ~ N(0, s^2 I)
// and |F| << c:
//   softmax: g = (c^2 / m) exp(s^2 ||x||^2)    exp: g = exp(2 s^2 ||x||^2)    relu: g = 1/2
// Since lambda_max <= trace, eta = 1/T keeps gradient descent stable (conservative by up to a
// factor n on uncorrelated data). For adam: 1e-3. `batch` is the global mini-batch (0: full).
// Collective over the column communicator.
double default_lr(const NetSpec& net, std::int64_t batch, const LocalData& data,
                  const comm::Grid& grid);

// The mean of ||x_i||^2 over the training samples, the same number on every rank (reduced over the
// column communicator, then rank 0's value broadcast over the world). Collective.
double mean_square_norm(const LocalData& data, const comm::Grid& grid);

// --sigma and --init when they were not given (net.sigma_default, net.init_default), from the data
// (docs/usage.md, "Defaults that train"): for synthetic data sigma = 1 and gaussian, the paper's
// setting (||x|| = 1, so sigma^2 ||x||^2 = 1). For CSV data sigma = 1/sqrt(mean_i ||x_i||^2), to 4
// significant digits (so that every grid computes the same value), which keeps sigma^2 ||x||^2
// near 1 where ||x||^2 would otherwise put e^{sigma^2 ||x||^2} far beyond m and saturate the
// hidden softmax; and symmetric initialisation when the width is even: F(W_0) = 0, where a
// gaussian start gives a random output of size sqrt(m e^{sigma^2 ||x||^2}) that the kernel of
// centred features hardly moves. Fills `sigma_source` and `init_source` for config.json.
// `mean_sq` is mean_square_norm(). Local.
void resolve_data_defaults(NetSpec& net, const DataSpec& spec, double mean_sq,
                           std::string& sigma_source, std::string& init_source);
// The default sigma of CSV data: 1/sqrt(mean_sq) to 4 significant digits (1 when mean_sq is 0).
double csv_default_sigma(double mean_sq);

// Bytes this rank needs for a run, by what needs them, in long double so that absurd sizes are
// refused instead of overflowing: its samples (`data_bytes`, the loaded rows and the trainer's
// copies of them), parameters, gradient, optimiser state and the W_0 copy of the NTK diagnostics
// (when `keeps_w0`), the per-thread scratch of the blocked passes and BLAS, the logit cache when
// it is forced on, and H (three copies: the all-reduce buffer, LAPACK's, the reference H_0).
struct MemoryNeed {
  long double data = 0, params = 0, scratch = 0, cache = 0, ntk = 0;
  long double total() const { return data + params + scratch + cache + ntk; }
};
MemoryNeed estimate_rank_bytes(const NetSpec& net, bool keeps_w0, const comm::Grid& grid,
                               std::int64_t d, std::int64_t d_out, std::int64_t n_local,
                               std::int64_t ntk_n, int threads, long double data_bytes = 0);
// The bytes of one rank's samples in their copies: the loaded rows (double) and the trainer's
// training, held-out and mini-batch rows (in the run's precision), (n_local, d + d_out) each.
long double sample_bytes(std::int64_t n_local, std::int64_t d, std::int64_t d_out,
                         Precision precision);
// Refuses a run that will not fit in the memory available to this rank (MemAvailable divided by
// the ranks on the node, and the address-space limit of `ulimit -v`), with the figures and the
// option that causes it (--n, --d-out, --width, --block, --ntk-samples, --logit-cache, or the data
// file named by `data_name`). Called before anything large is allocated. Collective.
void check_memory(const NetSpec& net, bool keeps_w0, const comm::Grid& grid, std::int64_t d,
                  std::int64_t d_out, std::int64_t n_local, std::int64_t ntk_n, int threads,
                  long double data_bytes = 0, const std::string& data_name = "--n");

// The memory this rank may use: its share of MemAvailable over the ranks on the node, and no more
// than its address space may still grow under `ulimit -v` (there OpenBLAS would block in its
// buffer allocation instead of failing). Negative when unknown. Collective (ranks per node).
long double rank_memory_share(const comm::Communicator& world);

// The same check before anything is loaded: this rank's share of the samples (synthetic: of --n; a
// CSV file: at most one number per two bytes of it) and the network at the requested shape, so
// that a size that cannot fit is refused by name instead of failing in an allocation. Collective.
void check_memory_before_loading(const Config& c, const comm::Grid& grid, int threads);

// Loss (1/2 sum ||F - y||^2) and, with classes, correct argmax predictions, over a whole set.
struct Evaluation {
  double loss = 0;
  double correct = 0;
  std::int64_t n = 0;
  double mean_loss() const { return n ? loss / static_cast<double>(n) : 0.0; }
  double accuracy() const { return n ? correct / static_cast<double>(n) : 0.0; }
};

// The execution choices made before the network is allocated: neurons per block (--block, or
// model::auto_block for the rank's rows) and whether pass 1 keeps its exponentials for pass 2
// (--logit-cache on, off, or auto: on when it takes at most a quarter of the memory available to
// each rank on the node). The ranks decide the cache together (one MIN all-reduce over the world),
// so that every rank takes the same path and 1 or P ranks compute alike. Collective.
struct Execution {
  std::int64_t block = 0;
  bool logit_cache = false;
};
Execution resolve_execution(const NetSpec& net, const comm::Grid& grid, const LocalData& data,
                            int threads, std::size_t elem_bytes);

// How the hidden softmax spreads a sample's weight over the neurons (Trainer::softmax_spread).
struct SoftmaxSpread {
  double mean_entropy = 0;   // nats; log m when uniform
  double mean_max_prob = 0;  // 1/m when uniform, 1 when one neuron takes all
};

// How far the neurons have moved from W_0: ||W - W_0||_F, max_r ||w_r - w_r(0)||, and the 50/90/99%
// quantiles of ||w_r - w_r(0)|| over the m neurons (numpy's linear definition, from a log-spaced
// histogram: within 0.54% of the exact ones, see core/stats.hpp).
struct WeightDrift {
  double fro = 0, max = 0, q50 = 0, q90 = 0, q99 = 0;
};

template <class T>
class Trainer {
 public:
  // Collective over the grid (it initialises parameters, possibly reading --init-from files).
  Trainer(const NetSpec& net, const comm::Grid& grid, const LocalData& data, int threads,
          const Execution& exec);
  // The same with the choices of resolve_execution() (collective: the cache agreement).
  Trainer(const NetSpec& net, const comm::Grid& grid, const LocalData& data, int threads);

  // Makes the next compute_gradient() use these training samples (global ids; each rank keeps
  // the ones it holds). Without a call, or after use_full_batch(), every training sample is used.
  void select_batch(const std::vector<std::int64_t>& global_ids);
  void use_full_batch();

  // Forward, backward and gradient reduction over the selected samples: fills grad_W (and grad_A
  // with --train-a) for this rank's neurons, summed over the samples. Returns the loss of the
  // selected samples at the current parameters. Collective.
  double compute_gradient();
  // One optimiser step with learning rate `lr` at step `t`. Local.
  void apply_update(double lr, std::int64_t t);
  // ||grad||_2 over all neurons (W, and A when trained). Collective over the row communicator.
  // It and local_grad_sq() read the gradient of the last compute_gradient(), which only
  // compute_gradient() overwrites: the evaluations, ntk(), mean_entropy() and predict() reuse the
  // forward buffers but not the gradient, so a step's metrics may be taken after its gradient and
  // before or after its update; the loops log them before, so that the logged grad_norm and the
  // logged loss are of the same parameters.
  double grad_norm() const;
  // Loss and accuracy over all training (or held-out) samples. Collective.
  Evaluation evaluate_train();
  Evaluation evaluate_test();

  // NTK diagnostics (docs/design.md §3). set_ntk_samples gives every rank the rows of these
  // training samples (collective over the column communicator: each grid row contributes the rows
  // it holds). ntk() is H (N, N), N = n_k d_out, at the current parameters (collective over the row
  // communicator: one SUM all-reduce of the partial J J^T).
  void set_ntk_samples(const std::vector<std::int64_t>& global_ids);
  std::vector<double> ntk();
  std::int64_t ntk_size() const { return nk_ * shape_.d_out; }
  // Outputs F (n_k, d_out) on the NTK samples from the last ntk() call.
  std::span<const T> ntk_outputs() const { return Fk_; }
  // The targets of the NTK samples (nk, d_out), the same on every rank.
  std::span<const T> ntk_targets() const { return Yk_; }
  // Mean over training samples of the entropy (nats) of the hidden softmax. Softmax only.
  // Collective.
  double mean_entropy();
  // The same and the mean over training samples of the hidden softmax's largest probability
  // (1 / S of the merged record: the top neuron's exponential is e^0). Softmax only. Collective.
  SoftmaxSpread softmax_spread();
  // ||W - W0||_F, max_r ||w_r - w_r0|| and quantiles of ||w_r - w_r0|| over all neurons.
  // Collective over the row.
  WeightDrift weight_drift(const std::vector<T>& W0) const;

  const model::Shape& shape() const { return shape_; }
  const model::Params<T>& params() const { return params_; }
  // Mutable access for checkpoints (loading parameters and optimiser state) only.
  model::Params<T>& params_mut() { return params_; }
  Optimizer<T>& optimizer_W() { return opt_W_; }
  Optimizer<T>& optimizer_A() { return opt_A_; }
  const Optimizer<T>& optimizer_W() const { return opt_W_; }
  const Optimizer<T>& optimizer_A() const { return opt_A_; }
  bool trains_A() const { return train_a_; }
  // Sum of squares of this rank's gradient (W and A): NaN or Inf when any entry is. Local.
  double local_grad_sq() const;
  std::span<const T> grad_W() const { return {grad_.data(), params_.W.size()}; }
  std::span<const T> grad_A() const;
  // The outputs F (n, d_out) of the last forward pass, for this rank's samples of that pass.
  std::span<const T> output() const {
    return {F_.data(), static_cast<std::size_t>(n_ * shape_.d_out)};
  }
  std::int64_t block() const { return ws_.block(); }
  bool logit_cache_on() const { return cache_.tiles != nullptr; }
  // Chunks of neurons whose gradient all-reduces overlap the backward pass (P_data > 1).
  std::int64_t overlap_chunks() const { return static_cast<std::int64_t>(chunks_.size()) - 1; }
  std::size_t workspace_bytes() const { return ws_.bytes(); }
  double comm_seconds() const { return comm_s_; }

  // For `widemax diffusion`, which draws fresh (x_t, eps) rows every step: replaces the values of
  // this rank's training rows (X (n, d), Y (n, d_out), the same n rows as before). Local.
  void replace_train_rows(std::span<const double> X, std::span<const double> Y);
  // The outputs F (n, d_out) at the current parameters for n rows X (n, d) that the caller gives,
  // in chunks of the workspace's capacity. Collective over the row communicator: every rank of a
  // grid row passes the same rows.
  void predict(const T* X, std::int64_t n, T* F);

 private:
  // Steps 1-2 (pass 1, the merge all-reduce) and the normalisation: F (n, d_out) of rows X (n, d),
  // with the merged records left in `records` (n, d_out + 2). Collective over the row.
  void outputs(const T* X, std::int64_t n, T* records, T* F, model::Workspace<T>& ws,
               const model::LogitCache<T>* cache);
  // outputs() over n samples of X/Y, and the local loss; leaves F_, R_, rf_, part_ for backward.
  double forward(const T* X, const T* Y, std::int64_t n, bool use_cache = false);
  Evaluation evaluate(const std::vector<T>& X, const std::vector<T>& Y, std::int64_t n);

  const comm::Grid& grid_;
  model::Shape shape_;
  bool train_a_;
  bool classes_;
  std::vector<std::int64_t> train_ids_;  // global ids of the local training rows
  std::vector<T> X_, Y_;                 // all local training rows
  std::vector<T> Xt_, Yt_;               // local held-out rows
  std::vector<T> Xb_, Yb_;               // gathered mini-batch rows
  bool batch_active_ = false;
  std::int64_t nb_ = 0;  // rows of the current mini-batch held here
  std::int64_t n_ = 0;   // rows of the last forward pass
  model::Params<T> params_;
  model::Workspace<T> ws_;
  std::vector<T> part_;  // (n, d_out + 2) records, merged in place
  // --logit-cache: pass 1's exponentials of the training rows (tiles_ (n, m_loc) by blocks).
  std::vector<T> tiles_, shift_;
  model::LogitCache<T> cache_;
  // Block boundaries of the overlapped gradient all-reduces, and their requests.
  std::vector<std::int64_t> chunks_;
  comm::Requests reqs_;
  std::vector<T> F_, R_, rf_;
  // [grad W | grad A (when trained) | loss]: one buffer so that P_data > 1 needs one all-reduce.
  std::vector<T> grad_;
  Optimizer<T> opt_W_, opt_A_;
  // NTK samples and their scratch, made by set_ntk_samples.
  std::int64_t nk_ = 0;
  std::vector<T> Xk_, Yk_, partk_, Fk_;
  std::unique_ptr<model::Workspace<T>> wsk_;
  std::unique_ptr<ntk::NtkWorkspace> nwsk_;
  double comm_s_ = 0;
};

// The summary keys that describe the network as it ran: width, d, d_out, activation, precision,
// grid, threads, block, logit cache and workspace bytes. Local.
template <class T>
nlohmann::json describe(const Trainer<T>& tr, const NetSpec& net, const comm::Grid& grid,
                        int threads);

}  // namespace widemax::train
