// Kernel-rate measurement for the performance model. See perf_model.hpp.
#include "widemax/train/perf_model.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "widemax/core/error.hpp"
#include "widemax/core/random.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/model/blas.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/model/model.hpp"
#include "widemax/model/vec_exp.hpp"

namespace widemax::train {

template <class T>
OneRankStep<T>::OneRankStep(const SyntheticShard<T>& shard, std::int64_t block, int threads,
                            bool logit_cache)
    : grid_(std::make_unique<comm::Grid>(MPI_COMM_SELF, 1, 1)) {
  const model::Shape& s = shard.shape;
  const std::int64_t n = static_cast<std::int64_t>(shard.X.size()) / s.d;
  NetSpec net;  // softmax, c_m = m, Gaussian init from seed 0: the shard's own parameters
  net.width = s.m;
  net.d_out = s.d_out;
  net.precision = sizeof(T) == 4 ? Precision::kFp32 : Precision::kFp64;
  LocalData data;
  data.d = s.d;
  data.d_out = s.d_out;
  data.train.n_global = n;
  for (std::int64_t i = 0; i < n; ++i) data.train.ids.push_back(i);
  data.train.X.assign(shard.X.begin(), shard.X.end());
  data.train.Y.assign(shard.Y.begin(), shard.Y.end());
  tr_ = std::make_unique<Trainer<T>>(net, *grid_, data, threads, Execution{block, logit_cache});
}

template <class T>
OneRankStep<T>::~OneRankStep() = default;

template <class T>
void OneRankStep<T>::step() {
  tr_->compute_gradient();
}

template class OneRankStep<float>;
template class OneRankStep<double>;

template <class T>
SyntheticShard<T> synthetic_shard(std::int64_t n, std::int64_t d, std::int64_t d_out,
                                  std::int64_t m) {
  SyntheticShard<T> b;
  b.shape = model::Shape{m, d, d_out, model::Activation::kSoftmax, model::Scale::kM};
  b.X.resize(static_cast<std::size_t>(n * d));
  b.Y.assign(static_cast<std::size_t>(n * d_out), T(0));
  for (std::int64_t q = 0; q < n * d; ++q)
    b.X[q] = static_cast<T>(rng::normal(7, rng::kStreamDataX, q, 0) / std::sqrt(double(d)));
  b.params.neurons = {0, m};
  model::init_params(b.shape, model::InitSpec{model::InitKind::kGaussian, 1.0, 0}, b.params);
  return b;
}
template SyntheticShard<float> synthetic_shard<float>(std::int64_t, std::int64_t, std::int64_t,
                                                      std::int64_t);
template SyntheticShard<double> synthetic_shard<double>(std::int64_t, std::int64_t, std::int64_t,
                                                        std::int64_t);

double seconds_per_pair(const KernelRates& r, std::int64_t d, bool logit_cache) {
  const double g = logit_cache ? 1 : 2, e = logit_cache ? 1 : 2;
  return g * 2.0 * d / r.logits_flops + 2.0 * d / r.grad_flops + e / r.exp_per_s + r.other_s;
}

namespace {

template <class T>
KernelRates measure(std::int64_t n, std::int64_t d, std::int64_t d_out, std::int64_t m,
                    bool logit_cache, int repeats) {
  const std::int64_t block = model::auto_block(n, m, 1, sizeof(T));
  const std::int64_t nb = model::block_count(m, block);
  const SyntheticShard<T> shard = synthetic_shard<T>(n, d, d_out, m);
  const std::vector<T>& X = shard.X;
  const model::Params<T>& p = shard.params;
  model::Workspace<T> ws(n, block, d_out, 1);
  std::vector<T> gW(static_cast<std::size_t>(m * d));
  KernelRates r;

  const std::int64_t len = 1 << 14;
  std::vector<T> buf(static_cast<std::size_t>(len));
  for (std::int64_t q = 0; q < len; ++q) buf[q] = static_cast<T>(-(q % 1000) * 0.01);
  const int exp_reps = 40;
  const double t_exp = time_median(repeats, [&] {
    for (int q = 0; q < exp_reps; ++q) model::vec_exp(buf.data(), buf.data(), len);
  });
  r.exp_per_s = double(len) * exp_reps / t_exp;

  const double flops = 2.0 * n * d * m;
  const double t_logits = time_median(repeats, [&] {
    for (std::int64_t b = 0; b < nb; ++b)
      model::blas::logits(n, std::min(block, m - b * block), d, X.data(),
                          p.W.data() + b * block * d, ws.z(0));
  });
  const double t_grad = time_median(repeats, [&] {
    for (std::int64_t b = 0; b < nb; ++b)
      model::blas::weight_grad(n, std::min(block, m - b * block), d, ws.z(0), X.data(),
                               gW.data() + b * block * d);
  });
  r.logits_flops = flops / t_logits;
  r.grad_flops = flops / t_grad;

  OneRankStep<T> run_step(shard, block, 1, logit_cache);
  const double step_s = time_median(repeats, [&] { run_step.step(); });
  const double modelled = seconds_per_pair(r, d, logit_cache) * double(n) * double(m);
  r.other_s = std::max(0.0, step_s - modelled) / (double(n) * double(m));
  return r;
}

}  // namespace

KernelRates measure_kernel_rates(std::int64_t n, std::int64_t d, std::int64_t d_out, std::int64_t m,
                                 Precision precision, bool logit_cache, int repeats) {
  WIDEMAX_ASSERT(n >= 1 && d >= 1 && d_out >= 1 && m >= 1, "measure_kernel_rates: bad shape");
  // One core: BLAS single-threaded, as inside the kernels' parallel regions. (A one-thread
  // parallel region is not "in parallel" for OpenBLAS, so its thread count is set explicitly.)
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  KernelRates r = precision == Precision::kFp32
                      ? measure<float>(n, d, d_out, m, logit_cache, repeats)
                      : measure<double>(n, d, d_out, m, logit_cache, repeats);
  openblas_set_num_threads(blas_threads);
  return r;
}

KernelRates measure_kernel_rates_on_root(const comm::Communicator& comm, std::int64_t n,
                                         std::int64_t d, std::int64_t d_out, std::int64_t m,
                                         Precision precision, bool logit_cache, int repeats) {
  KernelRates r;
  if (comm.rank() == 0) r = measure_kernel_rates(n, d, d_out, m, precision, logit_cache, repeats);
  comm.wait_idle_for_root();
  double v[4] = {r.logits_flops, r.grad_flops, r.exp_per_s, r.other_s};
  comm.broadcast(std::span<double>(v), 0);
  return KernelRates{v[0], v[1], v[2], v[3]};
}

}  // namespace widemax::train
