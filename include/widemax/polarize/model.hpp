// The value-softmax model y_hat = V softmax(a) (docs/design.md §1.2) with the softmax length T
// sharded over the ranks of a communicator exactly like hidden neurons (model/shard.hpp): rank p
// owns tokens shard_range(T, P, p), i.e. its columns of V and entries of a. This is the one place
// where the model communicates. Per step every rank issues, in this order:
//   forward_backward: one softmax-merge all-reduce of d + 3 numbers (M, S, u, E), nothing else;
//   grad_norms (logged steps only): one SUM all-reduce of 2 numbers;
//   argmax (logged steps only): one MAX all-reduce of 1 integer.
// Initial parameters come from the counter-based generator keyed by (seed, global token index,
// coordinate), so any rank count starts from the same V and a and follows the same trajectory up to
// the order of floating-point reductions. It does not own the loop, logging or files (run.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "widemax/comm/communicator.hpp"
#include "widemax/model/shard.hpp"
#include "widemax/polarize/kernels.hpp"

namespace widemax::polarize {

// Streams of the generator for this model; distinct from rng::Stream's values (1..33).
enum PolarizeStream : std::uint64_t {
  kStreamValues = 64,  // V
  kStreamLogits = 65,  // a
  kStreamBeta = 66,    // beta
};

// Initial parameters: V[k, j] = v_scale N(0,1), a_j = a_mean + a_noise N(0,1), each a pure function
// of (seed, j, k). The published toy runs use v_scale 0.1 with a = 0 or a = 1 + 0.1 N(0,1).
struct InitSpec {
  double v_scale = 0.1;
  double a_mean = 0.0;
  double a_noise = 0.0;
  std::uint64_t seed = 0;
};
// Fills V (r.size(), d) and a (r.size()) for the global tokens of `r`.
void init_params(const InitSpec& s, const model::Range& r, int d, std::vector<double>& V,
                 std::vector<double>& a);

// beta ~ N(0, I_d) from `seed`, rescaled to ||beta|| = norm.
std::vector<double> random_beta(int d, std::uint64_t seed, double norm = 1.0);
// The cross-entropy target p*: argmax (one-hot at argmax_k beta_k, the classification case, whose
// infimum, like the logistic loss's, is at infinity) or softmax (softmax(beta), attained at
// y = beta + c 1).
enum class CeTarget { kArgmax, kSoftmax };
CeTarget parse_ce_target(const std::string& s);  // errors name --ce-target
std::string to_string(CeTarget t);
std::vector<double> ce_target(const std::vector<double>& beta, CeTarget kind);

struct Problem {
  std::int64_t T = 8;
  int d = 8;
  Loss loss = Loss::kLogistic;
  std::vector<double> beta;    // d
  std::vector<double> p_star;  // d, cross-entropy only
};

struct StepState {
  double loss = 0;
  double entropy = 0;
  double max_prob = 0;
  double margin = 0;      // <beta, y_hat>
  std::vector<double> y;  // y_hat, d
};

class ValueSoftmax {
 public:
  // Collective-free. Throws an Error naming --T when T is smaller than the number of ranks.
  ValueSoftmax(Problem p, const comm::Communicator& comm);

  const Problem& problem() const { return p_; }
  const model::Range& range() const { return range_; }
  std::vector<double>& V() { return V_; }  // (range().size(), d)
  std::vector<double>& a() { return a_; }  // (range().size())
  const std::vector<double>& V() const { return V_; }
  const std::vector<double>& a() const { return a_; }
  const std::vector<double>& grad_V() const { return gV_; }
  const std::vector<double>& grad_a() const { return ga_; }

  // Collective: the loss, entropy and max_prob at the current parameters, and the local gradients.
  const StepState& forward_backward();
  // Collective: ||grad_V||_F and ||grad_a|| of the last forward_backward over all tokens.
  std::pair<double, double> grad_norms() const;
  // Collective: the global token index with the largest alpha at the parameters of the last
  // forward_backward (call it before apply; the largest index among ties).
  std::int64_t argmax() const;
  // Gradient descent with the gradients of the last forward_backward.
  void apply(double lr);
  double comm_seconds() const { return comm_s_; }

 private:
  Problem p_;
  const comm::Communicator& comm_;
  model::Range range_;
  std::vector<double> V_, a_, gV_, ga_, record_, g_;
  StepState state_;
  mutable double comm_s_ = 0;
};

}  // namespace widemax::polarize
