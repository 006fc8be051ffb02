// One rank's part of a training run: its samples, its neurons, the buffers of a step, and the
// step itself. This is the one place (with comm/) where collectives are issued, always in the same
// order on every rank:
//   1. forward_partial           (local)
//   2. softmax-merge all-reduce  (row communicator)             -- one per step
//   3. backward                  (local)
//   4. gradient + loss all-reduce (column communicator, only when P_data > 1)
// The loop around it (logging, run directory) is in loop.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "widemax/comm/grid.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/model/model.hpp"
#include "widemax/train/config.hpp"

namespace widemax::train {

// The samples a rank holds: rows [samples.begin, samples.end) of the global data set.
// X is (samples.size(), d), Y is (samples.size(), d_out), row-major, in double.
struct LocalData {
  model::Range samples;
  std::int64_t n_global = 0;
  std::int64_t d = 0;
  std::int64_t d_out = 0;
  std::vector<double> X, Y;
};

// Loads this rank's samples (each grid row reads only its own range) and standardises with global
// statistics (collective over the column communicator). Throws an Error naming the file or option.
LocalData load_data(const Config& c, const comm::Grid& grid);

// The default learning rate when --lr is not given: 1 / T, where T estimates the trace of the
// NTK at initialisation, T = sum_i ||x_i||^2 g(x_i), from the expected diagonal of one sample with
// w_r ~ N(0, sigma^2 I) and |F| << c:
//   softmax: g = (c^2 / m) exp(sigma^2 ||x||^2)    exp: g = exp(2 sigma^2 ||x||^2)    relu: g = 1/2
// Since lambda_max <= trace, eta = 1/T keeps full-batch gradient descent stable (conservative by
// up to a factor n on uncorrelated data). Collective over the column communicator.
double default_lr(const Config& c, const LocalData& data, const comm::Grid& grid);

template <class T>
class Trainer {
 public:
  // Collective over the grid (it initialises parameters, possibly reading --init-from files).
  Trainer(const Config& c, const comm::Grid& grid, const LocalData& data, int threads);

  // Forward pass and loss at the current parameters: returns L = 1/2 sum_i ||F_i - y_i||^2 over
  // all samples. Collective.
  double evaluate();
  // Forward, backward and gradient reduction: fills grad_W (and grad_A with --train-a) for this
  // rank's neurons, summed over all samples. Returns the loss at the current parameters. Collective.
  double compute_gradient();
  // W -= lr * grad_W (and A with --train-a). Local.
  void apply_update(double lr);
  // ||grad||_2 over all neurons (W, and A when trained). Collective over the row communicator.
  double grad_norm() const;

  const model::Shape& shape() const { return shape_; }
  const model::Params<T>& params() const { return params_; }
  std::span<const T> grad_W() const { return {grad_.data(), grad_w_size()}; }
  std::span<const T> grad_A() const;
  // The outputs F (n_local, d_out) of the last forward pass, for this rank's samples.
  std::span<const T> output() const { return F_; }
  std::int64_t n_local() const { return n_; }
  std::int64_t block() const { return ws_.block(); }
  std::size_t workspace_bytes() const { return ws_.bytes(); }
  double comm_seconds() const { return comm_s_; }

 private:
  std::size_t grad_w_size() const { return params_.W.size(); }
  double forward();  // steps 1-2 and the local loss; returns the loss of this rank's samples

  const comm::Grid& grid_;
  model::Shape shape_;
  bool train_a_;
  std::int64_t n_;
  std::vector<T> X_, Y_;
  model::Params<T> params_;
  model::Workspace<T> ws_;
  std::vector<T> part_;  // (n, d_out + 2) records, merged in place
  std::vector<T> F_, R_, rf_;
  // [grad W | grad A (when trained) | loss]: one buffer so that P_data > 1 needs one all-reduce.
  std::vector<T> grad_;
  double comm_s_ = 0;
};

}  // namespace widemax::train
