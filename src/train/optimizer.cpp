// Optimisers and schedules. See optimizer.hpp.
#include "widemax/train/optimizer.hpp"

#include <cmath>
#include <numbers>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"

namespace widemax::train {

namespace {
constexpr EnumName<OptimizerKind> kOptimizers[] = {{OptimizerKind::kGd, "gd"},
                                                   {OptimizerKind::kMomentum, "momentum"},
                                                   {OptimizerKind::kAdam, "adam"}};
constexpr EnumName<ScheduleKind> kSchedules[] = {{ScheduleKind::kConstant, "constant"},
                                                 {ScheduleKind::kCosine, "cosine"},
                                                 {ScheduleKind::kStep, "step"}};
}  // namespace

OptimizerKind parse_optimizer(const std::string& s) {
  return parse_enum(kOptimizers, s, "--optimizer", "optimiser");
}
std::string to_string(OptimizerKind k) {
  return enum_name(kOptimizers, k);
}
ScheduleKind parse_schedule(const std::string& s) {
  return parse_enum(kSchedules, s, "--lr-schedule", "schedule");
}
std::string to_string(ScheduleKind k) {
  return enum_name(kSchedules, k);
}

void validate(const OptimizerSpec& s) {
  WIDEMAX_CHECK(s.momentum >= 0 && s.momentum < 1, "--momentum must be in [0, 1), got ",
                s.momentum);
  WIDEMAX_CHECK(s.beta1 >= 0 && s.beta1 < 1, "--beta1 must be in [0, 1), got ", s.beta1);
  WIDEMAX_CHECK(s.beta2 >= 0 && s.beta2 < 1, "--beta2 must be in [0, 1), got ", s.beta2);
  WIDEMAX_CHECK(s.eps > 0, "--eps must be positive, got ", s.eps);
}

template <class T>
Optimizer<T>::Optimizer(const OptimizerSpec& spec, std::size_t size) : spec_(spec), size_(size) {
  validate(spec);
  const std::size_t copies = spec.kind == OptimizerKind::kAdam       ? 2
                             : spec.kind == OptimizerKind::kMomentum ? 1
                                                                     : 0;
  state_.assign(copies * size, T(0));
}

template <class T>
void Optimizer<T>::step(std::span<T> p, std::span<const T> g, double lr, std::int64_t t) {
  WIDEMAX_ASSERT(p.size() == size_ && g.size() == size_, "optimizer: size mismatch");
  const std::size_t n = size_;
  T* P = p.data();
  const T* G = g.data();
  const T eta = static_cast<T>(lr);
  if (spec_.kind == OptimizerKind::kGd) {
#pragma omp parallel for simd schedule(static)
    for (std::size_t i = 0; i < n; ++i) P[i] -= eta * G[i];
  } else if (spec_.kind == OptimizerKind::kMomentum) {
    T* V = state_.data();
    const T mu = static_cast<T>(spec_.momentum);
#pragma omp parallel for simd schedule(static)
    for (std::size_t i = 0; i < n; ++i) {
      V[i] = mu * V[i] + G[i];
      P[i] -= eta * V[i];
    }
  } else {
    T* M = state_.data();
    T* V = state_.data() + n;
    const T b1 = static_cast<T>(spec_.beta1), b2 = static_cast<T>(spec_.beta2);
    const double k = static_cast<double>(t + 1);
    // Kingma & Ba (2015), Algorithm 1: bias-corrected m_hat = m / (1 - b1^k), v_hat likewise.
    const T c1 = static_cast<T>(1.0 / (1.0 - std::pow(spec_.beta1, k)));
    const T c2 = static_cast<T>(1.0 / (1.0 - std::pow(spec_.beta2, k)));
    const T eps = static_cast<T>(spec_.eps);
#pragma omp parallel for simd schedule(static)
    for (std::size_t i = 0; i < n; ++i) {
      M[i] = b1 * M[i] + (T(1) - b1) * G[i];
      V[i] = b2 * V[i] + (T(1) - b2) * G[i] * G[i];
      P[i] -= eta * (M[i] * c1) / (std::sqrt(V[i] * c2) + eps);
    }
  }
}

template class Optimizer<double>;
template class Optimizer<float>;

void validate(const ScheduleSpec& s) {
  WIDEMAX_CHECK(s.lr_min >= 0, "--lr-min must be >= 0, got ", s.lr_min);
  WIDEMAX_CHECK(s.kind != ScheduleKind::kStep || s.step_every >= 1,
                "--lr-schedule step needs --lr-step-every K >= 1");
  WIDEMAX_CHECK(s.gamma > 0, "--lr-gamma must be positive, got ", s.gamma);
}

double scheduled_lr(const ScheduleSpec& s, double lr, std::int64_t t, std::int64_t total) {
  if (s.kind == ScheduleKind::kCosine && total > 0) {
    const double x = static_cast<double>(t) / static_cast<double>(total);
    return s.lr_min + (lr - s.lr_min) * 0.5 * (1.0 + std::cos(std::numbers::pi * x));
  }
  if (s.kind == ScheduleKind::kStep && s.step_every > 0)
    return lr * std::pow(s.gamma, static_cast<double>(t / s.step_every));
  return lr;
}

}  // namespace widemax::train
