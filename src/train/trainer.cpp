// The training step. See trainer.hpp for the order of collectives.
#include "widemax/train/trainer.hpp"

#include <algorithm>
#include <cmath>

#include "widemax/core/error.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/data/npy.hpp"

namespace widemax::train {

double default_lr(const Config& c, const LocalData& data, const comm::Grid& grid) {
  const auto act = model::parse_activation(c.activation);
  const double m = static_cast<double>(c.width);
  const double cm = c.scale == "m" ? m : std::sqrt(m);
  const double s2 = c.sigma * c.sigma;
  double trace = 0;
  for (std::int64_t i = 0; i < data.samples.size(); ++i) {
    double x2 = 0;
    for (std::int64_t j = 0; j < data.d; ++j) x2 += data.X[i * data.d + j] * data.X[i * data.d + j];
    double g = 0.5;
    if (act == model::Activation::kSoftmax) g = cm * cm / m * std::exp(s2 * x2);
    if (act == model::Activation::kExp) g = std::exp(2 * s2 * x2);
    trace += x2 * g;
  }
  trace = grid.column().allreduce_sum(trace);
  WIDEMAX_CHECK_HINT(std::isfinite(trace) && trace > 0, "give --lr explicitly",
                     "cannot derive a default learning rate: the NTK trace estimate is ", trace);
  return 1.0 / trace;
}

namespace {
model::Shape make_shape(const Config& c, const LocalData& data) {
  model::Shape s;
  s.m = c.width;
  s.d = data.d;
  s.d_out = data.d_out;
  s.activation = model::parse_activation(c.activation);
  s.scale = model::parse_scale(c.scale);
  return s;
}

template <class T>
std::vector<T> convert(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}
}  // namespace

template <class T>
Trainer<T>::Trainer(const Config& c, const comm::Grid& grid, const LocalData& data, int threads)
    : grid_(grid),
      shape_(make_shape(c, data)),
      train_a_(c.train_a),
      n_(data.samples.size()),
      X_(convert<T>(data.X)),
      Y_(convert<T>(data.Y)),
      ws_(std::max<std::int64_t>(n_, 1),
          c.block > 0 ? c.block
                      : model::auto_block(std::max<std::int64_t>(n_, 1),
                                          model::shard_range(c.width, grid.p_width(),
                                                             grid.width_index())
                                              .size(),
                                          threads, sizeof(T)),
          data.d_out, threads) {
  WIDEMAX_CHECK_HINT(c.width >= grid.p_width(), "use fewer ranks or a larger --width",
                     "--width ", c.width, " is smaller than the ", grid.p_width(),
                     " ranks that split the neurons: every rank must own at least one neuron");
  params_.neurons = model::shard_range(c.width, grid.p_width(), grid.width_index());
  const std::int64_t m_loc = params_.neurons.size();
  if (c.init_from.empty()) {
    model::init_params(shape_, model::InitSpec{c.init, c.sigma, c.seed}, params_);
  } else {
    const std::filesystem::path dir(c.init_from);
    for (const char* name : {"W.npy", "A.npy"}) {
      const auto info = data::read_npy_info(dir / name);
      const std::int64_t cols = std::string(name) == "W.npy" ? shape_.d : shape_.d_out;
      WIDEMAX_CHECK_HINT(info.shape.size() == 2 && info.shape[0] == c.width && info.shape[1] == cols,
                         "the files must match --width and the data's d and d_out",
                         "--init-from: ", (dir / name).string(), " has shape (",
                         info.shape.size() == 2 ? info.shape[0] : -1, ", ",
                         info.shape.size() == 2 ? info.shape[1] : -1, "), expected (", c.width,
                         ", ", cols, ")");
    }
    params_.W = data::read_npy_rows<T>(dir / "W.npy", params_.neurons.begin, params_.neurons.end,
                                       shape_.d);
    params_.A = data::read_npy_rows<T>(dir / "A.npy", params_.neurons.begin, params_.neurons.end,
                                       shape_.d_out);
  }
  part_.resize(static_cast<std::size_t>(n_ * shape_.record_width()));
  F_.resize(static_cast<std::size_t>(n_ * shape_.d_out));
  R_.resize(F_.size());
  rf_.resize(static_cast<std::size_t>(n_));
  grad_.assign(static_cast<std::size_t>(m_loc * shape_.d + (train_a_ ? m_loc * shape_.d_out : 0) + 1),
               T(0));
}

template <class T>
std::span<const T> Trainer<T>::grad_A() const {
  if (!train_a_) return {};
  return {grad_.data() + grad_w_size(), params_.A.size()};
}

template <class T>
double Trainer<T>::forward() {
  const std::int64_t m_loc = params_.neurons.size();
  model::forward_partial(shape_, n_, m_loc, X_.data(), params_.W.data(), params_.A.data(),
                         part_.data(), ws_);
  {
    ScopedTimer t(comm_s_);
    grid_.row().allreduce_softmax_merge(part_.data(), n_, shape_.record_width());
  }
  model::finalize_output(shape_, n_, part_.data(), F_.data());
  double loss = 0;
  for (std::int64_t i = 0; i < n_; ++i) {
    double rf = 0;
    for (std::int64_t k = 0; k < shape_.d_out; ++k) {
      const std::size_t idx = static_cast<std::size_t>(i * shape_.d_out + k);
      R_[idx] = F_[idx] - Y_[idx];
      rf += static_cast<double>(R_[idx]) * F_[idx];
      loss += 0.5 * static_cast<double>(R_[idx]) * R_[idx];
    }
    rf_[static_cast<std::size_t>(i)] = static_cast<T>(rf);
  }
  return loss;
}

template <class T>
double Trainer<T>::evaluate() {
  const double local = forward();
  if (grid_.p_data() == 1) return local;
  ScopedTimer t(comm_s_);
  return grid_.column().allreduce_sum(local);
}

template <class T>
double Trainer<T>::compute_gradient() {
  const double local_loss = forward();
  const std::int64_t m_loc = params_.neurons.size();
  T* gA = train_a_ ? grad_.data() + grad_w_size() : nullptr;
  model::backward(shape_, n_, m_loc, X_.data(), params_.W.data(), params_.A.data(), part_.data(),
                  R_.data(), rf_.data(), grad_.data(), gA, ws_);
  grad_.back() = static_cast<T>(local_loss);
  if (grid_.p_data() == 1) return local_loss;
  ScopedTimer t(comm_s_);
  grid_.column().allreduce_sum(std::span<T>(grad_));
  return static_cast<double>(grad_.back());
}

template <class T>
void Trainer<T>::apply_update(double lr) {
  const T eta = static_cast<T>(lr);
  const std::size_t nw = params_.W.size();
  T* W = params_.W.data();
  const T* g = grad_.data();
#pragma omp parallel for simd num_threads(ws_.threads()) schedule(static)
  for (std::size_t i = 0; i < nw; ++i) W[i] -= eta * g[i];
  if (train_a_) {
    T* A = params_.A.data();
    const T* gA = g + nw;
    for (std::size_t i = 0; i < params_.A.size(); ++i) A[i] -= eta * gA[i];
  }
}

template <class T>
double Trainer<T>::grad_norm() const {
  double sq = 0;
  for (std::size_t i = 0; i + 1 < grad_.size(); ++i) sq += static_cast<double>(grad_[i]) * grad_[i];
  return std::sqrt(grid_.row().allreduce_sum(sq));
}

template class Trainer<double>;
template class Trainer<float>;

}  // namespace widemax::train
