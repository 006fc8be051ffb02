// Optimisers against closed forms: gradient descent and heavy-ball momentum on a quadratic
// 1/2 a p^2 (linear recurrences with known solutions), Adam's first step (lr * g / (|g| + eps))
// and its bias-corrected steady state; learning-rate schedules at their defining points.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "widemax/core/error.hpp"
#include "widemax/train/optimizer.hpp"

using namespace widemax::train;

TEST(Optimizer, GradientDescentOnQuadraticIsGeometric) {
  Optimizer<double> opt(OptimizerSpec{OptimizerKind::kGd}, 1);
  std::vector<double> p = {3.0}, g(1);
  const double a = 2.0, lr = 0.1;
  for (int t = 0; t < 20; ++t) {
    g[0] = a * p[0];
    opt.step(p, g, lr, t);
  }
  EXPECT_NEAR(p[0], 3.0 * std::pow(1 - lr * a, 20), 1e-14);
}

TEST(Optimizer, MomentumMatchesClosedFormRecurrence) {
  // p_{t+1} = p_t - lr (mu v_t + a p_t), v_{t+1} = mu v_t + a p_t: the companion matrix
  // [[1 - lr a, -lr mu], [a, mu]] applied to (p, v); its powers computed here in long double.
  OptimizerSpec spec{OptimizerKind::kMomentum};
  spec.momentum = 0.8;
  Optimizer<double> opt(spec, 1);
  std::vector<double> p = {1.0}, g(1);
  const long double a = 1.5, lr = 0.05, mu = 0.8;
  long double P = 1.0L, V = 0.0L;
  for (int t = 0; t < 30; ++t) {
    g[0] = static_cast<double>(a) * p[0];
    opt.step(p, g, static_cast<double>(lr), t);
    const long double v_next = mu * V + a * P;
    P = P - lr * v_next;
    V = v_next;
  }
  EXPECT_NEAR(p[0], static_cast<double>(P), 1e-14);
  EXPECT_NEAR(opt.state()[0], static_cast<double>(V), 1e-14);
}

TEST(Optimizer, AdamFirstStepIsSignTimesLr) {
  Optimizer<double> opt(OptimizerSpec{OptimizerKind::kAdam}, 3);
  std::vector<double> p = {0.0, 0.0, 0.0}, g = {5.0, -1e-3, 2e2};
  opt.step(p, g, 0.01, 0);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(p[i], -0.01 * g[i] / (std::abs(g[i]) + 1e-8), 1e-15) << i;
}

TEST(Optimizer, AdamConstantGradientStepsAreLr) {
  // With a constant gradient the bias-corrected m_hat = g and v_hat = g^2 at every step, so each
  // step moves by lr * g / (|g| + eps) exactly (up to rounding).
  Optimizer<double> opt(OptimizerSpec{OptimizerKind::kAdam}, 1);
  std::vector<double> p = {1.0}, g = {0.3};
  for (int t = 0; t < 50; ++t) opt.step(p, g, 1e-3, t);
  EXPECT_NEAR(p[0], 1.0 - 50 * 1e-3 * 0.3 / (0.3 + 1e-8), 1e-12);
}

TEST(Optimizer, RefusesUnknownKind) {
  try {
    parse_optimizer("sgdx");
    FAIL() << "no error";
  } catch (const widemax::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--optimizer: unknown optimiser 'sgdx'"),
              std::string::npos);
  }
}

TEST(Schedule, ClosedForms) {
  ScheduleSpec cosine{ScheduleKind::kCosine, 0.1};
  EXPECT_DOUBLE_EQ(scheduled_lr(cosine, 1.0, 0, 100), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(cosine, 1.0, 50, 100), 0.55);
  EXPECT_NEAR(scheduled_lr(cosine, 1.0, 100, 100), 0.1, 1e-15);
  EXPECT_NEAR(scheduled_lr(cosine, 1.0, 25, 100),
              0.1 + 0.9 * 0.5 * (1 + std::cos(std::numbers::pi / 4)), 1e-15);
  ScheduleSpec step{ScheduleKind::kStep, 0, 10, 0.5};
  EXPECT_DOUBLE_EQ(scheduled_lr(step, 2.0, 9, 100), 2.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(step, 2.0, 10, 100), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(step, 2.0, 35, 100), 0.25);
  EXPECT_DOUBLE_EQ(scheduled_lr(ScheduleSpec{}, 0.3, 77, 100), 0.3);
  EXPECT_THROW(validate(ScheduleSpec{ScheduleKind::kStep, 0, 0, 0.5}), widemax::Error);
  EXPECT_THROW(parse_schedule("linear"), widemax::Error);
}
