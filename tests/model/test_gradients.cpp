// Gradients of the blocked kernels (W, and A with --train-a) for all three activations and both
// softmax scales, against central finite differences of the naive reference loss, in fp64: with
// the logits recomputed in pass 2 or taken from the logit cache, and with the backward pass run
// over all blocks at once or in two ranges of blocks (as the overlapped step does).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "reference.hpp"
#include "widemax/model/kernels.hpp"

using namespace widemax::model;
using widemax::ref::RefNet;

namespace {

struct Case {
  Activation act;
  Scale scale;
  const char* name;
};

struct Problem {
  std::int64_t n = 5, d = 3, d_out = 2, m = 37;
  std::vector<double> X, Y, W, A;
};

// d_out = 5 takes the kernels' BLAS path for the thin products (Workspace::kWideDOut), 3 their
// loops over k, 1 and 2 their fused sweeps.
Problem make_problem(double w_sigma, std::int64_t d_out = 2) {
  Problem p;
  p.d_out = d_out;
  std::mt19937_64 gen(123);
  std::normal_distribution<double> nd(0, 1);
  p.X.resize(p.n * p.d);
  p.Y.resize(p.n * p.d_out);
  p.W.resize(p.m * p.d);
  p.A.resize(p.m * p.d_out);
  for (auto& v : p.X) v = nd(gen);
  for (auto& v : p.Y) v = nd(gen);
  for (auto& v : p.W) v = w_sigma * nd(gen);
  for (auto& v : p.A) v = nd(gen);
  return p;
}

// The kernels' gradient for the whole model as one shard (serial use of the kernels).
void kernel_gradient(const Shape& s, const Problem& p, std::vector<double>& gW,
                     std::vector<double>& gA, int threads, std::int64_t block, bool use_cache,
                     bool in_two_ranges, bool with_a = true) {
  Workspace<double> ws(p.n, block, p.d_out, threads);
  std::vector<double> part(p.n * s.record_width()), F(p.n * p.d_out), R(F.size()), rf(p.n);
  const std::int64_t nb = block_count(p.m, block);
  // Poisoned so that a tile or shift the forward pass forgot to write shows up.
  std::vector<double> tiles(p.n * p.m, std::nan("")), shift(p.n * nb, std::nan(""));
  const LogitCache<double> store{tiles.data(), shift.data()};
  const LogitCache<double>* cache = use_cache ? &store : nullptr;
  forward_partial(s, {p.n, p.m, p.X.data(), p.W.data(), p.A.data(), part.data()}, ws, cache);
  finalize_output(s, p.n, part.data(), F.data());
  for (std::int64_t i = 0; i < p.n; ++i) {
    rf[i] = 0;
    for (std::int64_t k = 0; k < p.d_out; ++k) {
      R[i * p.d_out + k] = F[i * p.d_out + k] - p.Y[i * p.d_out + k];
      rf[i] += R[i * p.d_out + k] * F[i * p.d_out + k];
    }
  }
  gW.assign(p.m * p.d, std::nan(""));
  gA.assign(p.m * p.d_out, std::nan(""));
  double* gAp = with_a ? gA.data() : nullptr;  // W only: the kernels' fused last sweep
  const Operands<double> op{p.n,         p.m,      p.X.data(), p.W.data(), p.A.data(),
                            part.data(), R.data(), rf.data(),  gW.data(),  gAp};
  if (in_two_ranges) {
    const std::int64_t mid = nb / 2;
    backward(s, op, ws, cache, {mid, nb});
    backward(s, op, ws, cache, {0, mid});
  } else {
    backward(s, op, ws, cache);
  }
}

RefNet ref_of(const Shape& s, const Problem& p) {
  return RefNet{
      p.m, p.d, p.d_out, static_cast<int>(s.activation), static_cast<long double>(output_scale(s)),
      p.W, p.A};
}

// Central differences of the reference loss in every coordinate of `which` (W or A).
std::vector<double> fd_gradient(const Shape& s, const Problem& p, bool of_a) {
  RefNet net = ref_of(s, p);
  std::vector<double>& v = of_a ? net.A : net.W;
  std::vector<double> g(v.size());
  for (std::size_t q = 0; q < v.size(); ++q) {
    const double x0 = v[q];
    const double h = 1e-5 * std::max(1.0, std::abs(x0));
    v[q] = x0 + h;
    const long double lp = widemax::ref::ref_loss(net, p.X, p.Y, p.n);
    v[q] = x0 - h;
    const long double lm = widemax::ref::ref_loss(net, p.X, p.Y, p.n);
    v[q] = x0;
    g[q] = static_cast<double>((lp - lm) / (2 * h));
  }
  return g;
}

class Gradients : public ::testing::TestWithParam<Case> {};

TEST_P(Gradients, MatchCentralFiniteDifferences) {
  const Case c = GetParam();
  // exp grows fast: keep its logits moderate so the loss is well conditioned.
  for (std::int64_t d_out : {1, 2, 3, 5}) {
    const Problem p = make_problem(c.act == Activation::kExp ? 0.5 : 1.0, d_out);
    const Shape s{p.m, p.d, p.d_out, c.act, c.scale};
    const auto fdW = fd_gradient(s, p, false);
    const auto fdA = fd_gradient(s, p, true);
    for (int threads : {1, 3}) {
      for (std::int64_t block : {4, 16, 64}) {  // partial last blocks, one block, many blocks
        for (int variant = 0; variant < 5; ++variant) {
          const bool cached = variant == 1 || variant == 2 || variant == 4, ranges = variant == 2;
          const bool with_a = variant < 3;
          std::vector<double> gW, gA;
          kernel_gradient(s, p, gW, gA, threads, block, cached, ranges, with_a);
          EXPECT_LT(widemax::ref::rel_diff(gW, fdW), 1e-6)
              << c.name << " dL/dW threads " << threads << " block " << block << " cache " << cached
              << " two ranges " << ranges;
          if (with_a) {
            EXPECT_LT(widemax::ref::rel_diff(gA, fdA), 1e-6)
                << c.name << " d_out " << d_out << " dL/dA threads " << threads << " block "
                << block << " cache " << cached << " two ranges " << ranges;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllActivations, Gradients,
                         ::testing::Values(Case{Activation::kSoftmax, Scale::kM, "softmax_m"},
                                           Case{Activation::kSoftmax, Scale::kSqrtM,
                                                "softmax_sqrt_m"},
                                           Case{Activation::kExp, Scale::kM, "exp"},
                                           Case{Activation::kRelu, Scale::kM, "relu"}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// The forward output of the kernels equals the reference output (all activations).
TEST(Forward, MatchesReference) {
  for (std::int64_t d_out : {1, 2, 3, 5}) {
    const Problem p = make_problem(0.7, d_out);
    for (auto act : {Activation::kSoftmax, Activation::kExp, Activation::kRelu}) {
      const Shape s{p.m, p.d, p.d_out, act, Scale::kSqrtM};
      Workspace<double> ws(p.n, 8, p.d_out, 2);
      std::vector<double> part(p.n * s.record_width()), F(p.n * p.d_out);
      forward_partial(s, {p.n, p.m, p.X.data(), p.W.data(), p.A.data(), part.data()}, ws);
      finalize_output(s, p.n, part.data(), F.data());
      const auto ref = widemax::ref::ref_forward(ref_of(s, p), p.X, p.n);
      EXPECT_LT(widemax::ref::rel_diff(F, ref), 1e-13) << to_string(act) << " d_out " << d_out;
    }
  }
}

}  // namespace
