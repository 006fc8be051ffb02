// Kernels of the value-softmax model y_hat = V softmax(a) (docs/design.md §1.2), over one shard of
// the softmax length T: plain functions over local buffers, no communicator, float64 only. The
// shard's columns of V are stored column-major per token: V_loc is (t, d) row-major, row j = v_j,
// which is also the layout of V.npy (T, d) on disk. a_loc is (t).
//
// The forward pass is a softmax-merge record (model/merge.hpp) per shard,
//   [M, S, u_0..u_{d-1}, E],  M = max a_j, S = sum e^{a_j-M}, u = sum e^{a_j-M} v_j,
//   E = sum e^{a_j-M} a_j,
// whose every entry after M scales by e^{M_p - M} when shards merge, so the one existing MPI_Op
// merges it and every rank gets y_hat = u/S, max_prob = 1/S and the entropy
//   H = -sum alpha_j log alpha_j = log S + M - E/S
// from the same all-reduce. (M - E/S cancels when alpha is nearly one-hot: the absolute error is
// about 1e-16 max|a_j|, far below the entropies reported.) The gradient needs no collective:
// grad_a_j = alpha_j (<v_j, g> - <V^T g, alpha>) and <V^T g, alpha> = <g, y_hat>, which every rank
// has. What this file does not do: communicate, allocate per-token state, or know about ranks.
#pragma once

#include <cstdint>
#include <string>

namespace widemax::polarize {

enum class Loss { kLogistic, kSquare, kCrossEntropy };

// "logistic" | "square" | "cross-entropy"; throws an Error naming --loss otherwise.
Loss parse_loss(const std::string& name);
std::string to_string(Loss loss);

// Numbers per record: M, S, u (d), E.
inline int record_width(int d) {
  return d + 3;
}

// The record of tokens [0, t) of a shard (identity (-inf, 0, ..., 0) when t = 0). Blocks of tokens
// are reduced in a fixed order, so the result does not depend on the OpenMP thread count.
void partial_record(const double* V, const double* a, std::int64_t t, int d, double* record);

// What every rank reads off the merged record: y_hat (d numbers written to y), entropy, max_prob.
struct Readout {
  double entropy = 0;
  double max_prob = 0;
};
Readout read_record(const double* record, int d, double* y);

// The loss at y (d) and g = dL/dy written to g (d). beta: the logistic direction or the square
// loss's target; p_star: the cross-entropy's target distribution (used by that loss only).
//   logistic       L = log(1 + exp(-<beta, y>)),        g = -sigmoid(-<beta, y>) beta
//   square         L = 1/2 ||y - beta||^2,              g = y - beta
//   cross-entropy  L = -sum_k p*_k log softmax(y)_k,    g = softmax(y) sum_k p*_k - p*
double output_loss(Loss loss, const double* y, const double* beta, const double* p_star, int d,
                   double* g);

// Gradients of the shard's parameters given the merged normaliser (M, S), g = dL/dy and
// gy = <g, y_hat>: grad_V row j = alpha_j g, grad_a_j = alpha_j (<v_j, g> - gy), with
// alpha_j = e^{a_j - M} / S. gV is (t, d), ga is (t).
void local_gradient(const double* V, const double* a, std::int64_t t, int d, double M, double S,
                    const double* g, double gy, double* gV, double* ga);

// x -= lr * gx over n numbers.
void descend(double* x, const double* gx, std::int64_t n, double lr);

// sum x_i^2 over n numbers, in a fixed order of blocks (thread-count independent).
double sum_squares(const double* x, std::int64_t n);

}  // namespace widemax::polarize
