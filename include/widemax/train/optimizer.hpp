// Optimisers over one rank's shard of parameters, and learning-rate schedules. Purely local: the
// gradient given to step() is already the global one (summed over every sample), so every rank
// holding a copy of the same neurons applies the same update. State is allocated once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace widemax::train {

enum class OptimizerKind { kGd, kMomentum, kAdam };
OptimizerKind parse_optimizer(const std::string& s);  // errors name --optimizer
std::string to_string(OptimizerKind k);

enum class ScheduleKind { kConstant, kCosine, kStep };
ScheduleKind parse_schedule(const std::string& s);  // errors name --lr-schedule
std::string to_string(ScheduleKind k);

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::kGd;
  double momentum = 0.9;  // momentum: v = mu v + g;  p -= lr v   (heavy ball)
  double beta1 = 0.9;     // adam
  double beta2 = 0.999;
  double eps = 1e-8;
};

// Throws an Error naming --momentum / --beta1 / --beta2 / --eps.
void validate(const OptimizerSpec& s);

template <class T>
class Optimizer {
 public:
  Optimizer(const OptimizerSpec& spec, std::size_t size);
  // p -= update(g); `t` counts steps from 0 (Adam's bias correction uses t + 1).
  void step(std::span<T> p, std::span<const T> g, double lr, std::int64_t t);
  // The state, for checkpoints and tests: momentum's v, or Adam's (m, v) concatenated.
  std::span<const T> state() const { return state_; }
  // The state as slots of the parameters' shape: 0 (gd), 1 (momentum: v) or 2 (adam: m, v).
  int slots() const { return size_ ? static_cast<int>(state_.size() / size_) : 0; }
  std::span<T> slot(int k) { return {state_.data() + static_cast<std::size_t>(k) * size_, size_}; }
  std::span<const T> slot(int k) const {
    return {state_.data() + static_cast<std::size_t>(k) * size_, size_};
  }

 private:
  OptimizerSpec spec_;
  std::size_t size_;
  std::vector<T> state_;
};

struct ScheduleSpec {
  ScheduleKind kind = ScheduleKind::kConstant;
  double lr_min = 0;            // cosine: the rate reached at the last step
  std::int64_t step_every = 0;  // step: multiply by gamma every K steps
  double gamma = 0.1;
};

void validate(const ScheduleSpec& s);

// The learning rate at step t of `total` steps, from base rate `lr`.
//   constant: lr;  cosine: lr_min + (lr - lr_min) (1 + cos(pi t / total)) / 2;
//   step: lr * gamma^floor(t / step_every).
double scheduled_lr(const ScheduleSpec& s, double lr, std::int64_t t, std::int64_t total);

}  // namespace widemax::train
