// Value-softmax kernels (polarize/kernels.hpp) against independent oracles: central finite
// differences of the naive long-double loss for every loss, the naive entropy and closed forms, and
// records of arbitrary splits merged against the record of the whole.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "polarize/reference.hpp"
#include "widemax/core/error.hpp"
#include "widemax/model/merge.hpp"
#include "widemax/polarize/kernels.hpp"
#include "widemax/polarize/model.hpp"
#include "widemax/polarize/run.hpp"

namespace {

using namespace widemax::polarize;
namespace ref = widemax::testing_polarize;

struct Grads {
  double loss = 0;
  std::vector<double> gV, ga;
};

// The whole model as one shard, through the kernels only.
Grads kernel_grads(Loss loss, const std::vector<double>& V, const std::vector<double>& a, int d,
                   const std::vector<double>& beta, const std::vector<double>& p_star) {
  const auto T = static_cast<std::int64_t>(a.size());
  std::vector<double> rec(record_width(d)), y(d), g(d);
  partial_record(V.data(), a.data(), T, d, rec.data());
  read_record(rec.data(), d, y.data());
  Grads out;
  out.loss = output_loss(loss, y.data(), beta.data(), p_star.data(), d, g.data());
  double gy = 0;
  for (int k = 0; k < d; ++k) gy += g[k] * y[k];
  out.gV.resize(V.size());
  out.ga.resize(a.size());
  local_gradient(V.data(), a.data(), T, d, rec[0], rec[1], g.data(), gy, out.gV.data(),
                 out.ga.data());
  return out;
}

std::vector<double> normals(std::size_t n, double scale, double shift, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> nd;
  std::vector<double> v(n);
  for (auto& x : v) x = shift + scale * nd(gen);
  return v;
}

struct Case {
  const char* loss;
  const char* ce_target;
};

class Gradients : public ::testing::TestWithParam<Case> {};

TEST_P(Gradients, MatchCentralFiniteDifferences) {
  const int d = 5, T = 7;
  const std::vector<double> V = normals(T * d, 0.7, 0.0, 3);
  const std::vector<double> a = normals(T, 1.0, 0.5, 4);
  const std::vector<double> beta = normals(d, 1.0, 0.0, 5);
  const std::vector<double> p_star = ce_target(beta, parse_ce_target(GetParam().ce_target));
  const std::string name = GetParam().loss;
  const Grads k = kernel_grads(parse_loss(name), V, a, d, beta, p_star);
  EXPECT_NEAR(k.loss, static_cast<double>(ref::loss(parse_loss(name), V, a, d, beta, p_star)),
              1e-14);
  const double h = 1e-5;
  auto fd = [&](std::vector<double> Vp, std::vector<double> ap, bool wrt_v, std::size_t i) {
    auto& x = wrt_v ? Vp : ap;
    const double x0 = x[i];
    x[i] = x0 + h;
    const ref::LD up = ref::loss(parse_loss(name), Vp, ap, d, beta, p_star);
    x[i] = x0 - h;
    const ref::LD down = ref::loss(parse_loss(name), Vp, ap, d, beta, p_star);
    return static_cast<double>((up - down) / (2 * h));
  };
  double worst = 0;
  for (std::size_t i = 0; i < V.size(); ++i) {
    const double f = fd(V, a, true, i);
    EXPECT_NEAR(k.gV[i], f, 1e-9 * (1 + std::abs(f))) << name << " dL/dV entry " << i;
    worst = std::max(worst, std::abs(f));
  }
  for (std::size_t j = 0; j < a.size(); ++j) {
    const double f = fd(V, a, false, j);
    EXPECT_NEAR(k.ga[j], f, 1e-9 * (1 + std::abs(f))) << name << " dL/da_" << j;
    worst = std::max(worst, std::abs(f));
  }
  EXPECT_GT(worst, 1e-3) << "the gradient is not trivially zero";
}

INSTANTIATE_TEST_SUITE_P(AllLosses, Gradients,
                         ::testing::Values(Case{"logistic", "argmax"}, Case{"square", "argmax"},
                                           Case{"cross-entropy", "argmax"},
                                           Case{"cross-entropy", "softmax"}),
                         [](const auto& test_case) {
                           std::string s =
                               std::string(test_case.param.loss) + "_" + test_case.param.ce_target;
                           for (auto& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

TEST(Record, SplitsMergeToTheWholeAndTheNaiveEntropy) {
  // More tokens than one block (4096), logits near 700 (exp overflows at 709) and a spread that
  // leaves many alphas far below 1e-300.
  const int d = 3;
  for (double shift : {0.0, 700.0}) {
    const std::int64_t T = 10007;
    const std::vector<double> V = normals(T * d, 1.0, 0.0, 11);
    const std::vector<double> a = normals(T, 30.0, shift, 12);
    std::vector<double> whole(record_width(d)), y(d);
    partial_record(V.data(), a.data(), T, d, whole.data());
    const Readout r = read_record(whole.data(), d, y.data());
    const auto yl = ref::output(V, a, d);
    for (int k = 0; k < d; ++k) EXPECT_NEAR(y[k], static_cast<double>(yl[k]), 1e-13);
    EXPECT_NEAR(r.entropy, static_cast<double>(ref::entropy(a)), 1e-12 * (1 + shift));
    const auto al = ref::softmax(a);
    EXPECT_NEAR(r.max_prob, static_cast<double>(*std::max_element(al.begin(), al.end())), 1e-14);
    // Uneven pieces, one of them empty, merged in a scrambled order.
    const std::vector<std::int64_t> cuts = {0, 1, 1, 4096, 5000, 9999, T};
    std::vector<double> merged(record_width(d));
    widemax::model::set_identity(merged.data(), record_width(d));
    for (std::size_t p : {3u, 0u, 5u, 1u, 4u, 2u}) {
      std::vector<double> piece(record_width(d));
      partial_record(V.data() + cuts[p] * d, a.data() + cuts[p], cuts[p + 1] - cuts[p], d,
                     piece.data());
      widemax::model::merge_record(piece.data(), merged.data(), record_width(d));
    }
    std::vector<double> y2(d);
    const Readout r2 = read_record(merged.data(), d, y2.data());
    for (int k = 0; k < d; ++k) EXPECT_NEAR(y2[k], y[k], 1e-13);
    EXPECT_NEAR(r2.entropy, r.entropy, 1e-12 * (1 + shift));
    EXPECT_DOUBLE_EQ(r2.max_prob, r.max_prob);
  }
}

TEST(Record, ClosedForms) {
  const int d = 2;
  // Uniform: entropy log T, max_prob 1/T, y the mean of the columns.
  for (std::int64_t T : {1, 8, 100000}) {
    std::vector<double> V(T * d), a(T, 0.3), rec(record_width(d)), y(d);
    for (std::int64_t j = 0; j < T; ++j) V[j * d] = 1, V[j * d + 1] = static_cast<double>(j);
    partial_record(V.data(), a.data(), T, d, rec.data());
    const Readout r = read_record(rec.data(), d, y.data());
    EXPECT_NEAR(r.entropy, std::log(static_cast<double>(T)), 1e-12);
    EXPECT_NEAR(r.max_prob, 1.0 / T, 1e-15);
    EXPECT_NEAR(y[0], 1.0, 1e-12);
    EXPECT_NEAR(y[1], (T - 1) / 2.0, 1e-9 * T);
  }
  // One token ahead by L of T - 1 equal others: p = 1 / (1 + (T-1) e^{-L}),
  // H = -p log p - (1 - p) log((1 - p) / (T - 1)).
  const std::int64_t T = 8;
  for (double L : {0.5, 5.0, 30.0}) {
    std::vector<double> V(T * d, 0.0), a(T, -3.0), rec(record_width(d)), y(d);
    a[5] = -3.0 + L;
    partial_record(V.data(), a.data(), T, d, rec.data());
    const Readout r = read_record(rec.data(), d, y.data());
    const double p = 1 / (1 + (T - 1) * std::exp(-L)), q = 1 - p;
    EXPECT_NEAR(r.max_prob, p, 1e-15);
    EXPECT_NEAR(r.entropy, -p * std::log(p) - q * std::log(q / (T - 1)), 1e-14);
  }
}

TEST(OutputLoss, ClosedFormsWithoutOverflow) {
  const std::vector<double> beta = {0.6, 0.8}, p_star = {0.0, 1.0};
  std::vector<double> g(2);
  // logistic at margins +-800: log(1 + e^-800) ~ e^-800 (underflows to 0), log(1 + e^800) = 800.
  std::vector<double> y = {600.0, 550.0};  // <beta, y> = 800
  EXPECT_EQ(output_loss(Loss::kLogistic, y.data(), beta.data(), p_star.data(), 2, g.data()), 0.0);
  EXPECT_EQ(g[0], 0.0);
  y = {-600.0, -550.0};
  EXPECT_DOUBLE_EQ(output_loss(Loss::kLogistic, y.data(), beta.data(), p_star.data(), 2, g.data()),
                   800.0);
  EXPECT_DOUBLE_EQ(g[0], -0.6);
  y = {0.0, 0.0};
  EXPECT_DOUBLE_EQ(output_loss(Loss::kLogistic, y.data(), beta.data(), p_star.data(), 2, g.data()),
                   std::log(2.0));
  EXPECT_DOUBLE_EQ(g[1], -0.4);
  // square: 1/2 ||y - beta||^2.
  y = {1.6, -0.2};
  EXPECT_DOUBLE_EQ(output_loss(Loss::kSquare, y.data(), beta.data(), p_star.data(), 2, g.data()),
                   1.0);
  // cross-entropy at y = (0, 0): log 2; at y = (0, 1000): ~0 without overflow.
  y = {0.0, 0.0};
  EXPECT_DOUBLE_EQ(
      output_loss(Loss::kCrossEntropy, y.data(), beta.data(), p_star.data(), 2, g.data()),
      std::log(2.0));
  EXPECT_DOUBLE_EQ(g[0], 0.5);
  y = {0.0, 1000.0};
  EXPECT_EQ(output_loss(Loss::kCrossEntropy, y.data(), beta.data(), p_star.data(), 2, g.data()),
            0.0);
}

TEST(Options, UnknownNamesAreRefusedWithTheOption) {
  EXPECT_THROW(parse_loss("hinge"), widemax::Error);
  try {
    parse_loss("hinge");
  } catch (const widemax::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--loss: unknown loss 'hinge'"), std::string::npos);
  }
  EXPECT_THROW(parse_ce_target("uniform"), widemax::Error);
  Config c;
  c.lr = std::nan("");
  EXPECT_THROW(validate(c), widemax::Error);
  c = Config{};
  c.d = 0;
  EXPECT_THROW(validate(c), widemax::Error);
}

TEST(Options, CrossEntropyTargets) {
  const auto p = ce_target({0.1, 0.7, -0.2}, CeTarget::kArgmax);
  EXPECT_EQ(p, (std::vector<double>{0.0, 1.0, 0.0}));
  const auto q = ce_target({0.0, std::log(3.0)}, CeTarget::kSoftmax);
  EXPECT_NEAR(q[0], 0.25, 1e-15);
  EXPECT_NEAR(q[1], 0.75, 1e-15);
  const auto beta = random_beta(6, 9, 2.5);
  double sq = 0;
  for (double b : beta) sq += b * b;
  EXPECT_NEAR(std::sqrt(sq), 2.5, 1e-14);
}

TEST(Logging, LogSpacedStepsAreAboutTwentyPerDecade) {
  int n = 0;
  for (std::int64_t s = 0; s <= 1000000; ++s) n += logged_step(s, 0, 20);
  // Every step up to ~20, then 20 per decade: about 1 + 20 + 20 * 5 = 121.
  EXPECT_GE(n, 100);
  EXPECT_LE(n, 140);
  EXPECT_TRUE(logged_step(0, 0, 20) && logged_step(1, 0, 20) && logged_step(10, 0, 20) &&
              logged_step(100, 0, 20) && logged_step(1000, 0, 20) && logged_step(1000000, 0, 20));
  EXPECT_TRUE(logged_step(50, 25, 0) && !logged_step(51, 25, 0));
  // --log-every 0 with no log-spaced steps: only step 0 (the loop adds the last).
  EXPECT_TRUE(logged_step(0, 0, 0) && !logged_step(1, 0, 0) && !logged_step(1000, 0, 0));
  // Both: the union.
  EXPECT_TRUE(logged_step(1025, 25, 20) && logged_step(13, 25, 20) && !logged_step(1001, 25, 20));
}

}  // namespace
