// The NTK kernels against independent oracles:
//   - H from the blocked J J^T kernel equals Jac Jac^T, where Jac = dF/dW is taken by central
//     finite differences of the naive reference network, for every activation (to 1e-6);
//   - the LAPACK spectrum against closed forms;
//   - the hidden-softmax entropy against a direct computation.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "reference.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/ntk/ntk.hpp"

using namespace widemax;

namespace {

struct Tiny {
  std::int64_t n = 4, d = 3, d_out = 2, m = 9;
  std::vector<double> X, W, A;
};

Tiny make_tiny(double sigma) {
  Tiny t;
  std::mt19937_64 gen(31);
  std::normal_distribution<double> nd(0, 1);
  t.X.resize(t.n * t.d);
  t.W.resize(t.m * t.d);
  t.A.resize(t.m * t.d_out);
  for (auto& v : t.X) v = nd(gen);
  for (auto& v : t.W) v = sigma * nd(gen);
  for (auto& v : t.A) v = nd(gen);
  return t;
}

// H from the kernels, the whole model as one shard.
std::vector<double> kernel_ntk(const model::Shape& s, const Tiny& t, std::int64_t block) {
  model::Workspace<double> ws(t.n, block, t.d_out, 2);
  ntk::NtkWorkspace nws(t.n, t.d_out, block);
  std::vector<double> part(t.n * s.record_width()), F(t.n * t.d_out);
  model::forward_partial(s, {t.n, t.m, t.X.data(), t.W.data(), t.A.data(), part.data()}, ws);
  model::finalize_output(s, t.n, part.data(), F.data());
  const std::int64_t N = t.n * t.d_out;
  std::vector<double> H(N * N, 0.0);
  ntk::accumulate_jjt(s, t.n, t.m, t.X.data(), t.W.data(), t.A.data(), part.data(), F.data(),
                      H.data(), ws, nws);
  ntk::apply_gram(t.n, t.d, t.d_out, t.X.data(), H.data());
  return H;
}

// Jac[(i,k), p] = dF_k(x_i) / dW_p by central differences of the reference; H = Jac Jac^T.
std::vector<double> fd_ntk(const model::Shape& s, const Tiny& t) {
  ref::RefNet net{t.m,
                  t.d,
                  t.d_out,
                  static_cast<int>(s.activation),
                  static_cast<long double>(model::output_scale(s)),
                  t.W,
                  t.A};
  const std::int64_t N = t.n * t.d_out, P = t.m * t.d;
  std::vector<double> jac(N * P);
  for (std::int64_t p = 0; p < P; ++p) {
    const double w0 = net.W[p], h = 1e-5;
    net.W[p] = w0 + h;
    const auto fp = ref::ref_forward(net, t.X, t.n);
    net.W[p] = w0 - h;
    const auto fm = ref::ref_forward(net, t.X, t.n);
    net.W[p] = w0;
    for (std::int64_t a = 0; a < N; ++a)
      jac[a * P + p] = static_cast<double>((fp[a] - fm[a]) / (2 * h));
  }
  std::vector<double> H(N * N, 0.0);
  for (std::int64_t a = 0; a < N; ++a)
    for (std::int64_t b = 0; b < N; ++b)
      for (std::int64_t p = 0; p < P; ++p) H[a * N + b] += jac[a * P + p] * jac[b * P + p];
  return H;
}

}  // namespace

TEST(Ntk, EqualsFiniteDifferenceJacobianProduct) {
  for (auto act :
       {model::Activation::kSoftmax, model::Activation::kExp, model::Activation::kRelu}) {
    for (auto scale : {model::Scale::kM, model::Scale::kSqrtM}) {
      if (act != model::Activation::kSoftmax && scale == model::Scale::kSqrtM) continue;
      const Tiny t = make_tiny(act == model::Activation::kExp ? 0.5 : 1.0);
      const model::Shape s{t.m, t.d, t.d_out, act, scale};
      const auto fd = fd_ntk(s, t);
      for (std::int64_t block : {2, 4, 16}) {
        const auto H = kernel_ntk(s, t, block);
        EXPECT_LT(ref::rel_diff(H, fd), 1e-6)
            << model::to_string(act) << " " << model::to_string(scale) << " block " << block;
      }
    }
  }
}

TEST(Ntk, EigenvaluesMatchClosedForms) {
  // [[2, 1], [1, 2]] has eigenvalues 1 and 3; a diagonal matrix its diagonal, sorted.
  EXPECT_NEAR(ntk::symmetric_eigenvalues({2, 1, 1, 2}, 2)[0], 1.0, 1e-14);
  EXPECT_NEAR(ntk::symmetric_eigenvalues({2, 1, 1, 2}, 2)[1], 3.0, 1e-14);
  const auto d = ntk::symmetric_eigenvalues({5, 0, 0, 0, -1, 0, 0, 0, 2}, 3);
  EXPECT_DOUBLE_EQ(d[0], -1.0);
  EXPECT_DOUBLE_EQ(d[1], 2.0);
  EXPECT_DOUBLE_EQ(d[2], 5.0);
  // Rank one: u u^T has eigenvalues 0, ..., 0, ||u||^2.
  const std::vector<double> u = {1, 2, 3, 4};
  std::vector<double> uu(16);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) uu[a * 4 + b] = u[a] * u[b];
  const auto r = ntk::symmetric_eigenvalues(uu, 4);
  EXPECT_NEAR(r[3], 30.0, 1e-12);
  EXPECT_NEAR(r[0], 0.0, 1e-12);
}

TEST(Ntk, EntropyMatchesDirectComputation) {
  const Tiny t = make_tiny(2.0);
  const model::Shape s{t.m, t.d, 1, model::Activation::kSoftmax, model::Scale::kM};
  std::vector<double> A(t.m, 1.0);
  model::Workspace<double> ws(t.n, 4, 1, 1);
  std::vector<double> part(t.n * 3), plogp(t.n, 0.0);
  model::forward_partial(s, {t.n, t.m, t.X.data(), t.W.data(), A.data(), part.data()}, ws);
  ntk::entropy_partial(s, t.n, t.m, t.X.data(), t.W.data(), part.data(), plogp.data(), ws);
  for (std::int64_t i = 0; i < t.n; ++i) {
    std::vector<long double> z(t.m);
    long double zmax = -INFINITY, S = 0, H = 0;
    for (std::int64_t r = 0; r < t.m; ++r) {
      z[r] = 0;
      for (std::int64_t j = 0; j < t.d; ++j)
        z[r] += (long double)t.X[i * t.d + j] * t.W[r * t.d + j];
      zmax = std::max(zmax, z[r]);
    }
    for (auto v : z) S += std::exp(v - zmax);
    for (auto v : z) {
      const long double p = std::exp(v - zmax) / S;
      H -= p * std::log(p);
    }
    EXPECT_NEAR(-plogp[i], static_cast<double>(H), 1e-12) << i;
    EXPECT_LE(-plogp[i], std::log(static_cast<double>(t.m)) + 1e-12);
  }
}
