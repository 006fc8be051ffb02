// The training step. See trainer.hpp for the order of collectives.
#include "widemax/train/trainer.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "widemax/core/error.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/system.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/data/npy.hpp"

namespace widemax::train {

double default_lr(const NetSpec& c, std::int64_t batch, const LocalData& data,
                  const comm::Grid& grid) {
  if (c.optimizer.kind == OptimizerKind::kAdam) return 1e-3;
  const auto act = c.activation;
  const double m = static_cast<double>(c.width);
  const double cm = c.scale == model::Scale::kM ? m : std::sqrt(m);
  const double s2 = c.sigma * c.sigma;
  const SampleSet& tr = data.train;
  double trace = 0;
  for (std::int64_t i = 0; i < tr.size(); ++i) {
    double x2 = 0;
    for (std::int64_t j = 0; j < data.d; ++j) x2 += tr.X[i * data.d + j] * tr.X[i * data.d + j];
    double g = 0.5;
    if (act == model::Activation::kSoftmax) g = cm * cm / m * std::exp(s2 * x2);
    if (act == model::Activation::kExp) g = std::exp(2 * s2 * x2);
    trace += x2 * g;
  }
  trace = grid.column().allreduce_sum(trace);
  if (batch > 0 && batch < tr.n_global)
    trace *= static_cast<double>(batch) / static_cast<double>(tr.n_global);
  if (!std::isfinite(trace)) {
    // Overflow: |x|^2 (or e^{sigma^2 |x|^2}) is beyond a double. Name the data's scale: this
    // rank's largest |x| and its column (no collective here: some ranks may not get this far).
    double big = 0;
    std::int64_t col = 0;
    for (std::int64_t i = 0; i < tr.size() * data.d; ++i)
      if (!(std::abs(tr.X[i]) <= big)) big = std::abs(tr.X[i]), col = i % data.d;
    // The trace is reduced, so every rank gets here (rank 0 prints its own figures).
    WIDEMAX_FAIL_ALL_HINT("standardise the features (--standardize), or give --lr explicitly",
                          "cannot derive a default learning rate: the NTK trace estimate is not a "
                          "finite number (",
                          trace, ") because of the data's scale: the training samples' |x|^2",
                          act == model::Activation::kRelu ? "" : " and e^{sigma^2 |x|^2}",
                          " overflow (feature column ", col + 1, " holds |x| = ", big, ")");
  }
  WIDEMAX_CHECK_ALL_HINT(trace > 0, "give --lr explicitly",
                         "cannot derive a default learning rate: the NTK trace estimate is ",
                         trace);
  return 1.0 / trace;
}

double mean_square_norm(const LocalData& data, const comm::Grid& grid) {
  const SampleSet& tr = data.train;
  double sum = 0;
  for (std::int64_t i = 0; i < tr.size() * data.d; ++i) sum += tr.X[i] * tr.X[i];
  sum = grid.column().allreduce_sum(sum);
  double mean = tr.n_global > 0 ? sum / static_cast<double>(tr.n_global) : 0.0;
  grid.world().broadcast(std::span<double>(&mean, 1), 0);
  return mean;
}

double csv_default_sigma(double mean_sq) {
  if (!(std::isfinite(mean_sq) && mean_sq > 0)) return 1.0;
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", 1.0 / std::sqrt(mean_sq));
  return std::strtod(text, nullptr);
}

void resolve_data_defaults(NetSpec& net, const DataSpec& spec, double mean_sq,
                           std::string& sigma_source, std::string& init_source) {
  sigma_source = net.sigma_default ? "default for synthetic data" : "--sigma";
  init_source = net.init_default ? "default for synthetic data" : "--init";
  if (!spec.is_csv()) {
    if (net.sigma_default) net.sigma = 1.0;
    if (net.init_default) net.init = model::InitKind::kGaussian;
    return;
  }
  if (net.sigma_default) {
    net.sigma = csv_default_sigma(mean_sq);
    sigma_source = std::isfinite(mean_sq) && mean_sq > 0
                       ? cat("default for CSV data: 1/sqrt(mean ||x||^2) = 1/sqrt(", mean_sq, ")")
                       : std::string("default for CSV data: 1 (the features are all zero)");
  }
  if (net.init_default) {
    const bool even = net.width % 2 == 0;
    net.init = even ? model::InitKind::kSymmetric : model::InitKind::kGaussian;
    init_source = even ? "default for CSV data: symmetric (F(W_0) = 0)"
                       : "default for CSV data: gaussian, since --width is odd (symmetric pairs "
                         "the neurons)";
  }
}

namespace {
model::Shape make_shape(const NetSpec& c, const LocalData& data) {
  model::Shape s;
  s.m = c.width;
  s.d = data.d;
  s.d_out = data.d_out;
  s.activation = c.activation;
  s.scale = c.scale;
  return s;
}

template <class T>
std::vector<T> convert(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

std::int64_t neurons_here(const NetSpec& c, const comm::Grid& g) {
  return model::shard_range(c.width, g.p_width(), g.width_index()).size();
}

std::int64_t capacity(const LocalData& data) {
  return std::max<std::int64_t>({data.train.size(), data.test.size(), 1});
}
}  // namespace

Execution resolve_execution(const NetSpec& c, const comm::Grid& grid, const LocalData& data,
                            int threads, std::size_t elem_bytes) {
  Execution e;
  const std::int64_t m_loc = neurons_here(c, grid);
  e.block = c.block > 0 ? c.block : model::auto_block(capacity(data), m_loc, threads, elem_bytes);
  const std::int64_t rows = std::max<std::int64_t>(data.train.size(), 1);
  const std::int64_t nb = model::block_count(m_loc, e.block);
  const double cache_bytes = static_cast<double>(rows) * (m_loc + nb) * elem_bytes;
  int want = c.logit_cache == LogitCacheMode::kOn;
  if (c.logit_cache == LogitCacheMode::kAuto) {
    const long double share = rank_memory_share(grid.world());
    want = share > 0 && cache_bytes <= 0.25L * share;
  }
  e.logit_cache = grid.world().allreduce_min(want) != 0;
  return e;
}

template <class T>
Trainer<T>::Trainer(const NetSpec& c, const comm::Grid& grid, const LocalData& data, int threads)
    : Trainer(c, grid, data, threads, resolve_execution(c, grid, data, threads, sizeof(T))) {}

template <class T>
Trainer<T>::Trainer(const NetSpec& c, const comm::Grid& grid, const LocalData& data, int threads,
                    const Execution& exec)
    : grid_(grid),
      shape_(make_shape(c, data)),
      train_a_(c.train_a),
      classes_(data.classes > 0),
      train_ids_(data.train.ids),
      X_(convert<T>(data.train.X)),
      Y_(convert<T>(data.train.Y)),
      Xt_(convert<T>(data.test.X)),
      Yt_(convert<T>(data.test.Y)),
      ws_(capacity(data), exec.block, data.d_out, threads),
      opt_W_(c.optimizer, static_cast<std::size_t>(neurons_here(c, grid) * data.d)),
      opt_A_(c.optimizer,
             c.train_a ? static_cast<std::size_t>(neurons_here(c, grid) * data.d_out) : 0) {
  // The width and the grid are the same on every rank: so is this refusal.
  WIDEMAX_CHECK_ALL_HINT(c.width >= grid.p_width(), "use fewer ranks or a larger --width",
                         "--width ", c.width, " is smaller than the ", grid.p_width(),
                         " ranks that split the neurons: every rank must own at least one neuron");
  params_.neurons = model::shard_range(c.width, grid.p_width(), grid.width_index());
  const std::int64_t m_loc = params_.neurons.size();
  if (c.init_from.empty()) {
    model::init_params(shape_, model::InitSpec{c.init, c.sigma, c.seed, c.seed_scope}, params_);
  } else {
    const std::filesystem::path dir(c.init_from);
    for (const char* name : {"W.npy", "A.npy"}) {
      const auto info = data::read_npy_info(dir / name);
      const std::int64_t cols = std::string(name) == "W.npy" ? shape_.d : shape_.d_out;
      WIDEMAX_CHECK_HINT(
          info.shape.size() == 2 && info.shape[0] == c.width && info.shape[1] == cols,
          "the files must match --width and the data's d and d_out",
          "--init-from: ", (dir / name).string(), " has shape (",
          info.shape.size() == 2 ? info.shape[0] : -1, ", ",
          info.shape.size() == 2 ? info.shape[1] : -1, "), expected (", c.width, ", ", cols, ")");
    }
    params_.W =
        data::read_npy_rows<T>(dir / "W.npy", params_.neurons.begin, params_.neurons.end, shape_.d);
    params_.A = data::read_npy_rows<T>(dir / "A.npy", params_.neurons.begin, params_.neurons.end,
                                       shape_.d_out);
    // NaN or Inf (or, in fp32, a value beyond its range) is refused here, by file and entry, not
    // left to show up as a NaN loss at step 0.
    for (const auto& [name, v, cols] : {std::tuple{"W.npy", &params_.W, shape_.d},
                                        std::tuple{"A.npy", &params_.A, shape_.d_out}}) {
      for (std::size_t i = 0; i < v->size(); ++i) {
        if (std::isfinite((*v)[i])) continue;
        const std::int64_t row = params_.neurons.begin + static_cast<std::int64_t>(i) / cols;
        WIDEMAX_FAIL_HINT("the file must hold finite numbers (in the range of --precision)",
                          "--init-from: ", (dir / name).string(), ": entry (", row, ", ",
                          static_cast<std::int64_t>(i) % cols, ") is ", (*v)[i],
                          ", not a finite number");
      }
    }
  }
  const std::int64_t cap = ws_.n();
  part_.resize(static_cast<std::size_t>(cap * shape_.record_width()));
  F_.resize(static_cast<std::size_t>(cap * shape_.d_out));
  R_.resize(F_.size());
  rf_.resize(static_cast<std::size_t>(cap));
  Xb_.resize(X_.size());
  Yb_.resize(Y_.size());
  grad_.assign(
      static_cast<std::size_t>(m_loc * shape_.d + (train_a_ ? m_loc * shape_.d_out : 0) + 1), T(0));

  // The logit cache of pass 1's exponentials (resolve_execution decided it on every rank alike).
  const std::int64_t rows =
      std::max<std::int64_t>(static_cast<std::int64_t>(X_.size()) / shape_.d, 1);
  const std::int64_t nb = model::block_count(m_loc, ws_.block());
  if (exec.logit_cache) {
    tiles_.resize(static_cast<std::size_t>(rows * m_loc));
    shift_.resize(static_cast<std::size_t>(rows * nb));
    cache_ = {tiles_.data(), shift_.data()};
  }

  // Gradient all-reduce chunks (P_data > 1): about 1 MiB or more each, at most 8.
  const double grad_bytes = static_cast<double>(grad_.size()) * sizeof(T);
  const std::int64_t k = std::clamp<std::int64_t>(static_cast<std::int64_t>(grad_bytes / (1 << 20)),
                                                  1, std::min<std::int64_t>(8, nb));
  for (std::int64_t q = 0; q <= k; ++q) chunks_.push_back(nb * q / k);
  reqs_.reserve(static_cast<std::size_t>(2 * k + 1));
}

template <class T>
std::span<const T> Trainer<T>::grad_A() const {
  if (!train_a_) return {};
  return {grad_.data() + params_.W.size(), params_.A.size()};
}

template <class T>
void Trainer<T>::select_batch(const std::vector<std::int64_t>& global_ids) {
  const std::int64_t d = shape_.d, d_out = shape_.d_out;
  nb_ = 0;
  for (const std::int64_t id : global_ids) {
    const auto it = std::lower_bound(train_ids_.begin(), train_ids_.end(), id);
    if (it == train_ids_.end() || *it != id) continue;  // held by another grid row
    const std::int64_t i = it - train_ids_.begin();
    std::copy_n(X_.begin() + i * d, d, Xb_.begin() + nb_ * d);
    std::copy_n(Y_.begin() + i * d_out, d_out, Yb_.begin() + nb_ * d_out);
    ++nb_;
  }
  batch_active_ = true;
}

template <class T>
void Trainer<T>::use_full_batch() {
  batch_active_ = false;
}

// The one forward sequence of the network, for training rows, NTK samples and predictions alike:
// pass 1 over this rank's neurons, the fused merge all-reduce of the (M, S, u) records over the
// grid row, and the normalisation into F. The merged records stay in `records` for pass 2.
template <class T>
void Trainer<T>::outputs(const T* X, std::int64_t n, T* records, T* F, model::Workspace<T>& ws,
                         const model::LogitCache<T>* cache) {
  model::forward_partial(
      shape_, {n, params_.neurons.size(), X, params_.W.data(), params_.A.data(), records}, ws,
      cache);
  {
    ScopedTimer t(comm_s_);
    grid_.row().allreduce_softmax_merge(records, n, shape_.record_width());
  }
  model::finalize_output(shape_, n, records, F);
}

template <class T>
double Trainer<T>::forward(const T* X, const T* Y, std::int64_t n, bool use_cache) {
  n_ = n;
  outputs(X, n, part_.data(), F_.data(), ws_, use_cache && logit_cache_on() ? &cache_ : nullptr);
  double loss = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double rf = 0;
    for (std::int64_t k = 0; k < shape_.d_out; ++k) {
      const std::size_t idx = static_cast<std::size_t>(i * shape_.d_out + k);
      R_[idx] = F_[idx] - Y[idx];
      rf += static_cast<double>(R_[idx]) * F_[idx];
      loss += 0.5 * static_cast<double>(R_[idx]) * R_[idx];
    }
    rf_[static_cast<std::size_t>(i)] = static_cast<T>(rf);
  }
  return loss;
}

template <class T>
Evaluation Trainer<T>::evaluate(const std::vector<T>& X, const std::vector<T>& Y, std::int64_t n) {
  double sums[2] = {forward(X.data(), Y.data(), n), 0.0};
  if (classes_) {
    const std::int64_t K = shape_.d_out;
    for (std::int64_t i = 0; i < n; ++i) {
      const T* f = F_.data() + i * K;
      const T* y = Y.data() + i * K;
      sums[1] += (std::max_element(f, f + K) - f) == (std::max_element(y, y + K) - y);
    }
  }
  double total_n = static_cast<double>(n);
  if (grid_.p_data() > 1) {
    ScopedTimer t(comm_s_);
    double buf[3] = {sums[0], sums[1], total_n};
    grid_.column().allreduce_sum(std::span<double>(buf));
    sums[0] = buf[0];
    sums[1] = buf[1];
    total_n = buf[2];
  }
  return Evaluation{sums[0], sums[1], static_cast<std::int64_t>(total_n)};
}

template <class T>
Evaluation Trainer<T>::evaluate_train() {
  return evaluate(X_, Y_, static_cast<std::int64_t>(train_ids_.size()));
}

template <class T>
Evaluation Trainer<T>::evaluate_test() {
  return evaluate(Xt_, Yt_, static_cast<std::int64_t>(Yt_.size() / shape_.d_out));
}

template <class T>
double Trainer<T>::compute_gradient() {
  const T* X = batch_active_ ? Xb_.data() : X_.data();
  const T* Y = batch_active_ ? Yb_.data() : Y_.data();
  const std::int64_t n = batch_active_ ? nb_ : static_cast<std::int64_t>(train_ids_.size());
  const double local_loss = forward(X, Y, n, /*use_cache=*/true);
  const std::int64_t m_loc = params_.neurons.size(), d = shape_.d, d_out = shape_.d_out;
  const std::int64_t B = ws_.block();
  T* gA = train_a_ ? grad_.data() + params_.W.size() : nullptr;
  const model::LogitCache<T>* cache = logit_cache_on() ? &cache_ : nullptr;
  // Between blocks, the master thread lets the chunks already started advance.
  const model::BlockHook hook{[](void* r) { static_cast<comm::Requests*>(r)->progress(); }, &reqs_};
  auto backward = [&](std::int64_t b0, std::int64_t b1) {
    model::backward(shape_,
                    {n, m_loc, X, params_.W.data(), params_.A.data(), part_.data(), R_.data(),
                     rf_.data(), grad_.data(), gA},
                    ws_, cache, {b0, b1, reqs_.pending() ? hook : model::BlockHook{}});
  };
  grad_.back() = static_cast<T>(local_loss);
  if (grid_.p_data() == 1) {
    backward(0, -1);
    return local_loss;
  }
  // P_data > 1: each chunk's rows of grad W (and grad A) are reduced over the column while the
  // next chunk computes. The same sequence of all-reduces on every rank of a column.
  const comm::Communicator& col = grid_.column();
  {
    ScopedTimer t(comm_s_);
    col.iallreduce_sum(std::span<T>(&grad_.back(), 1), reqs_);
  }
  for (std::size_t q = 0; q + 1 < chunks_.size(); ++q) {
    backward(chunks_[q], chunks_[q + 1]);
    ScopedTimer t(comm_s_);
    const std::int64_t r0 = chunks_[q] * B, r1 = std::min(m_loc, chunks_[q + 1] * B);
    col.iallreduce_sum(std::span<T>(grad_.data() + r0 * d, static_cast<std::size_t>((r1 - r0) * d)),
                       reqs_);
    if (gA)
      col.iallreduce_sum(std::span<T>(gA + r0 * d_out, static_cast<std::size_t>((r1 - r0) * d_out)),
                         reqs_);
    reqs_.progress();
  }
  {
    ScopedTimer t(comm_s_);
    reqs_.wait_all();
  }
  return static_cast<double>(grad_.back());
}

template <class T>
void Trainer<T>::apply_update(double lr, std::int64_t t) {
  opt_W_.step(params_.W, grad_W(), lr, t);
  if (train_a_) opt_A_.step(params_.A, grad_A(), lr, t);
}

template <class T>
double Trainer<T>::local_grad_sq() const {
  const T* g = grad_.data();
  const std::size_t n = grad_.size() - 1;  // the last entry is the loss
  double sq = 0;
#pragma omp simd reduction(+ : sq)
  for (std::size_t i = 0; i < n; ++i) sq += static_cast<double>(g[i]) * g[i];
  return sq;
}

template <class T>
double Trainer<T>::grad_norm() const {
  return std::sqrt(grid_.row().allreduce_sum(local_grad_sq()));
}

template class Trainer<double>;
template class Trainer<float>;

template <class T>
nlohmann::json describe(const Trainer<T>& tr, const NetSpec& net, const comm::Grid& grid,
                        int threads) {
  return {{"width", net.width},
          {"d", tr.shape().d},
          {"d_out", tr.shape().d_out},
          {"activation", model::to_string(net.activation)},
          {"precision", to_string(net.precision)},
          {"grid", grid.name()},
          {"threads", threads},
          {"block", tr.block()},
          {"logit_cache", tr.logit_cache_on()},
          {"workspace_bytes_per_rank", tr.workspace_bytes()}};
}
template nlohmann::json describe(const Trainer<double>&, const NetSpec&, const comm::Grid&, int);
template nlohmann::json describe(const Trainer<float>&, const NetSpec&, const comm::Grid&, int);

}  // namespace widemax::train

// ---- NTK diagnostics and memory checks ---------------------------------------------------------

namespace widemax::train {

namespace {
std::string gib(double bytes) {
  const double g = bytes / (1 << 30);
  return g >= 1e6 ? cat(g, " GiB") : cat(std::floor(g * 100) / 100, " GiB");
}
}  // namespace

long double sample_bytes(std::int64_t n_local, std::int64_t d, std::int64_t d_out,
                         Precision precision) {
  const long double rows = std::max<std::int64_t>(n_local, 1);
  return rows * static_cast<long double>(d + d_out) * (8.0L + 2.0L * element_bytes(precision));
}

MemoryNeed estimate_rank_bytes(const NetSpec& c, bool keeps_w0, const comm::Grid& grid,
                               std::int64_t d, std::int64_t d_out, std::int64_t n_local,
                               std::int64_t ntk_n, int threads, long double data_bytes) {
  MemoryNeed m;
  const long double elem = element_bytes(c.precision);
  const long double m_loc = model::shard_range(c.width, grid.p_width(), grid.width_index()).size();
  const int opt_copies = c.optimizer.kind == OptimizerKind::kAdam       ? 2
                         : c.optimizer.kind == OptimizerKind::kMomentum ? 1
                                                                        : 0;
  const long double copies = 2 + opt_copies + (keeps_w0 ? 1 : 0);
  const long double rows = std::max<std::int64_t>(n_local, 1);
  const long double block =
      c.block > 0
          ? c.block
          : model::auto_block(std::max<std::int64_t>(n_local, 1), static_cast<std::int64_t>(m_loc),
                              std::max(threads, 1), static_cast<std::size_t>(elem));
  m.data = data_bytes;
  m.params = m_loc * static_cast<long double>(d + d_out) * elem * copies;
  // The blocked passes' tiles, and OpenBLAS's per-thread GEMM buffers (about 32 MiB each).
  m.scratch = rows * block * threads * elem * 2 + 32.0L * (1 << 20) * threads;
  // --logit-cache on keeps n_local x m_loc numbers (auto takes it only when it fits).
  m.cache = c.logit_cache == LogitCacheMode::kOn ? rows * m_loc * elem : 0;
  const long double N = static_cast<long double>(ntk_n) * d_out;
  m.ntk = N > 0 ? 3 * N * N * 8 + N * block * 8 : 0;
  return m;
}

// The memory this rank may use: its share of MemAvailable, and no more than its address space
// may grow (`ulimit -v`: there OpenBLAS would block in its buffer allocation instead of failing).
// Negative when unknown.
long double rank_memory_share(const comm::Communicator& world) {
  const std::int64_t avail = mem_available_bytes();
  long double share = avail > 0 ? static_cast<long double>(avail) / world.ranks_on_node() : -1;
  rlimit lim{};
  if (::getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    // What the process has mapped already (code, MPI, libraries) is not available any more.
    long double used = 0;
    std::ifstream statm("/proc/self/statm");
    long long pages = 0;
    if (statm >> pages) used = static_cast<long double>(pages) * ::sysconf(_SC_PAGESIZE);
    const long double room = static_cast<long double>(lim.rlim_cur) - used;
    share = share < 0 ? room : std::min(share, room);
  }
  return share;
}

namespace {
// The refusal of check_memory, naming what needs the most. Local.
void refuse_if_too_big(const NetSpec& c, const MemoryNeed& need, long double share, int local,
                       std::int64_t d, std::int64_t d_out, std::int64_t ntk_n,
                       const std::string& data_name);
}  // namespace

void check_memory(const NetSpec& c, bool keeps_w0, const comm::Grid& grid, std::int64_t d,
                  std::int64_t d_out, std::int64_t n_local, std::int64_t ntk_n, int threads,
                  long double data_bytes, const std::string& data_name) {
  const MemoryNeed need =
      estimate_rank_bytes(c, keeps_w0, grid, d, d_out, n_local, ntk_n, threads, data_bytes);
  const long double share = rank_memory_share(grid.world());
  const int local = grid.world().ranks_on_node();
  // Each node has its own memory: the ranks agree on the verdict (the collectives are above).
  comm::agree_on_errors(
      grid.world(), [&] { refuse_if_too_big(c, need, share, local, d, d_out, ntk_n, data_name); });
}

namespace {
void refuse_if_too_big(const NetSpec& c, const MemoryNeed& need, long double share, int local,
                       std::int64_t d, std::int64_t d_out, std::int64_t ntk_n,
                       const std::string& data_name) {
  if (share < 0 || need.total() <= 0.9L * share) return;
  const std::string room = cat(", but only ", gib(static_cast<double>(share)),
                               " is available to each of the ", local, " ranks on this node",
                               share < 0.5L * mem_available_bytes() / local
                                   ? " (under its address-space limit, ulimit -v)"
                                   : "");
  const double total = static_cast<double>(need.total());
  // Name what needs the most.
  const long double top = std::max({need.data, need.params, need.scratch, need.cache, need.ntk});
  if (top == need.ntk) {
    const long double N = static_cast<long double>(ntk_n) * d_out;
    WIDEMAX_FAIL_HINT("use a smaller --ntk-samples", "--ntk-samples ", ntk_n, ": the NTK is (",
                      static_cast<double>(N), " x ", static_cast<double>(N), ") and needs about ",
                      gib(static_cast<double>(need.ntk)), " per rank", room);
  }
  if (top == need.data)
    WIDEMAX_FAIL_HINT("use more grid rows (--grid PdxPw with a larger Pd), fewer samples or fp32",
                      d_out > d ? cat("--d-out ", d_out) : data_name, ": the samples need about ",
                      gib(static_cast<double>(need.data)), " per rank (", gib(total), " in all)",
                      room);
  if (top == need.scratch)
    WIDEMAX_FAIL_HINT(c.block > 0
                          ? "use a smaller --block (0: automatic) or fewer --threads"
                          : "use more grid rows (--grid PdxPw with a larger Pd) or fewer samples",
                      c.block > 0 ? cat("--block ", c.block) : data_name,
                      ": the blocked passes' scratch needs about ",
                      gib(static_cast<double>(need.scratch)), " per rank", room);
  if (top == need.cache)
    WIDEMAX_FAIL_HINT("use --logit-cache auto or off", "--logit-cache on: the cache needs about ",
                      gib(static_cast<double>(need.cache)), " per rank", room);
  WIDEMAX_FAIL_HINT("use more ranks (or nodes), fp32, --logit-cache off, or a smaller --width",
                    d_out > d ? cat("--d-out ", d_out) : cat("--width ", c.width),
                    ": each rank needs about ", gib(total),
                    " (parameters, gradient, optimiser state and scratch)", room);
}
}  // namespace

// Before anything is loaded: this rank's share of the samples (synthetic: of --n; a CSV file: at
// most one number per two bytes of it) and the network at the requested shape, so that a size that
// cannot fit is refused by name instead of failing in an allocation.
void check_memory_before_loading(const Config& c, const comm::Grid& grid, int threads) {
  const std::int64_t p = grid.p_data();
  if (!c.data.is_csv()) {
    const std::int64_t n_local = (c.data.n + c.data.n_test + p - 1) / p;
    check_memory(c.net, false, grid, c.data.d, c.net.d_out, n_local, 0, threads,
                 sample_bytes(n_local, c.data.d, c.net.d_out, c.net.precision),
                 cat("--n ", c.data.n));
    return;
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(c.data.csv, ec);
  // An unreadable file counts as empty here (load_data names it): returning early instead would
  // skip check_memory's collectives on this rank alone.
  const long double values = ec ? 0.0L : static_cast<long double>(size) / 2 / p;
  check_memory(c.net, false, grid, 1, 1, 1, 0, threads,
               values * (8.0L + 2.0L * element_bytes(c.net.precision)), "--data " + c.data.csv);
}

template <class T>
void Trainer<T>::set_ntk_samples(const std::vector<std::int64_t>& global_ids) {
  nk_ = static_cast<std::int64_t>(global_ids.size());
  // The rows and their targets (for the linearised model's residual, loop.cpp) in one buffer
  // [X_k | Y_k]: each grid row fills the samples it holds; one SUM over the column does the rest.
  const std::int64_t d = shape_.d, dk = shape_.d_out;
  std::vector<double> buf(static_cast<std::size_t>(nk_ * (d + dk)), 0.0);
  double* rows = buf.data();
  double* targets = buf.data() + nk_ * d;
  for (std::int64_t q = 0; q < nk_; ++q) {
    const auto it = std::lower_bound(train_ids_.begin(), train_ids_.end(), global_ids[q]);
    if (it == train_ids_.end() || *it != global_ids[q]) continue;
    const std::int64_t i = it - train_ids_.begin();
    for (std::int64_t j = 0; j < d; ++j) rows[q * d + j] = static_cast<double>(X_[i * d + j]);
    for (std::int64_t k = 0; k < dk; ++k) targets[q * dk + k] = static_cast<double>(Y_[i * dk + k]);
  }
  if (grid_.p_data() > 1) grid_.column().allreduce_sum(std::span<double>(buf));
  Xk_.assign(rows, rows + nk_ * d);
  Yk_.assign(targets, targets + nk_ * dk);
  partk_.assign(static_cast<std::size_t>(nk_ * shape_.record_width()), T(0));
  Fk_.assign(static_cast<std::size_t>(nk_ * shape_.d_out), T(0));
  wsk_ = std::make_unique<model::Workspace<T>>(std::max<std::int64_t>(nk_, 1), ws_.block(),
                                               shape_.d_out, ws_.threads());
  nwsk_ = std::make_unique<ntk::NtkWorkspace>(nk_, shape_.d_out, ws_.block());
}

template <class T>
std::vector<double> Trainer<T>::ntk() {
  WIDEMAX_ASSERT(nk_ > 0, "ntk(): no NTK samples set");
  const std::int64_t m_loc = params_.neurons.size(), N = ntk_size();
  outputs(Xk_.data(), nk_, partk_.data(), Fk_.data(), *wsk_, nullptr);
  std::vector<double> H(static_cast<std::size_t>(N * N), 0.0);
  ntk::accumulate_jjt(shape_, nk_, m_loc, Xk_.data(), params_.W.data(), params_.A.data(),
                      partk_.data(), Fk_.data(), H.data(), *wsk_, *nwsk_);
  {
    ScopedTimer t(comm_s_);
    grid_.row().allreduce_sum(std::span<double>(H));
  }
  ntk::apply_gram(nk_, shape_.d, shape_.d_out, Xk_.data(), H.data());
  return H;
}

template <class T>
double Trainer<T>::mean_entropy() {
  return softmax_spread().mean_entropy;
}

template <class T>
SoftmaxSpread Trainer<T>::softmax_spread() {
  WIDEMAX_ASSERT(shape_.activation == model::Activation::kSoftmax,
                 "the hidden-softmax entropy exists for --activation softmax only");
  const std::int64_t n = static_cast<std::int64_t>(train_ids_.size());
  forward(X_.data(), Y_.data(), n);
  std::vector<double> plogp(static_cast<std::size_t>(n), 0.0);
  ntk::entropy_partial(shape_, n, params_.neurons.size(), X_.data(), params_.W.data(), part_.data(),
                       plogp.data(), ws_);
  double sums[3] = {0.0, static_cast<double>(n), 0.0};
  {
    ScopedTimer t(comm_s_);
    grid_.row().allreduce_sum(std::span<double>(plogp));
  }
  for (double v : plogp) sums[0] -= v;
  // The merged records (M, S, u): the largest probability is e^{z_max - M} / S = 1 / S.
  const std::int64_t rw = shape_.record_width();
  for (std::int64_t i = 0; i < n; ++i) sums[2] += 1.0 / static_cast<double>(part_[i * rw + 1]);
  if (grid_.p_data() > 1) grid_.column().allreduce_sum(std::span<double>(sums));
  return {sums[0] / sums[1], sums[2] / sums[1]};
}

template <class T>
WeightDrift Trainer<T>::weight_drift(const std::vector<T>& W0) const {
  const std::int64_t d = shape_.d, m_loc = params_.neurons.size();
  double sum = 0, worst = 0;
  // The quantiles come from a histogram of the norms whose counts are summed over the row: its size
  // is fixed, so 1e8 neurons cost no more communication than 1e3 (stats.hpp).
  std::vector<double> counts(log_histogram::kBins, 0.0);
  for (std::int64_t r = 0; r < m_loc; ++r) {
    double sq = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double diff = static_cast<double>(params_.W[r * d + j]) - W0[r * d + j];
      sq += diff * diff;
    }
    sum += sq;
    worst = std::max(worst, sq);
    log_histogram::add(std::sqrt(sq), counts);
  }
  grid_.row().allreduce_sum(std::span<double>(counts));
  WeightDrift w;
  w.fro = std::sqrt(grid_.row().allreduce_sum(sum));
  w.max = std::sqrt(grid_.row().allreduce_max(worst));
  w.q50 = log_histogram::quantile(counts, 0.50);
  w.q90 = log_histogram::quantile(counts, 0.90);
  w.q99 = log_histogram::quantile(counts, 0.99);
  return w;
}

template void Trainer<double>::set_ntk_samples(const std::vector<std::int64_t>&);
template void Trainer<float>::set_ntk_samples(const std::vector<std::int64_t>&);
template std::vector<double> Trainer<double>::ntk();
template std::vector<double> Trainer<float>::ntk();
template double Trainer<double>::mean_entropy();
template double Trainer<float>::mean_entropy();
template SoftmaxSpread Trainer<double>::softmax_spread();
template SoftmaxSpread Trainer<float>::softmax_spread();
template WeightDrift Trainer<double>::weight_drift(const std::vector<double>&) const;
template WeightDrift Trainer<float>::weight_drift(const std::vector<float>&) const;

}  // namespace widemax::train

// ---- Rows given by the caller (widemax diffusion) ----------------------------------------------

namespace widemax::train {

template <class T>
void Trainer<T>::replace_train_rows(std::span<const double> X, std::span<const double> Y) {
  WIDEMAX_ASSERT(X.size() == X_.size() && Y.size() == Y_.size(), "replace_train_rows: expected ",
                 X_.size(), " + ", Y_.size(), " numbers, got ", X.size(), " + ", Y.size());
  std::copy(X.begin(), X.end(), X_.begin());
  std::copy(Y.begin(), Y.end(), Y_.begin());
}

template <class T>
void Trainer<T>::predict(const T* X, std::int64_t n, T* F) {
  const std::int64_t cap = ws_.n();
  for (std::int64_t i0 = 0; i0 < n; i0 += cap) {
    const std::int64_t rows = std::min(cap, n - i0);
    outputs(X + i0 * shape_.d, rows, part_.data(), F + i0 * shape_.d_out, ws_, nullptr);
  }
}

template void Trainer<double>::replace_train_rows(std::span<const double>, std::span<const double>);
template void Trainer<float>::replace_train_rows(std::span<const double>, std::span<const double>);
template void Trainer<double>::predict(const double*, std::int64_t, double*);
template void Trainer<float>::predict(const float*, std::int64_t, float*);

}  // namespace widemax::train
