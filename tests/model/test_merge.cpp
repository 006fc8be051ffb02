// The merge of softmax partials (docs/design.md §2.1) against a direct computation over the union
// of the neurons, including empty shards and logits far beyond where a naive exp overflows; and the
// blocked, threaded forward_partial kernel against the same direct computation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "reference.hpp"
#include "widemax/model/kernels.hpp"
#include "widemax/model/merge.hpp"

using namespace widemax::model;

namespace {

// The record (M, S, u) of neurons [b, e) computed directly in long double.
std::vector<long double> direct_record(const std::vector<double>& z, const std::vector<double>& a,
                                       int d_out, std::size_t b, std::size_t e) {
  std::vector<long double> rec(static_cast<std::size_t>(d_out + 2), 0.0L);
  if (b == e) {
    rec[0] = -INFINITY;
    return rec;
  }
  long double M = -INFINITY;
  for (std::size_t r = b; r < e; ++r) M = std::max<long double>(M, z[r]);
  rec[0] = M;
  for (std::size_t r = b; r < e; ++r) {
    const long double w = std::exp(static_cast<long double>(z[r]) - M);
    rec[1] += w;
    for (int k = 0; k < d_out; ++k) rec[2 + k] += a[r * d_out + k] * w;
  }
  return rec;
}

template <class T>
void check_merge(double z_lo, double z_hi, double tol) {
  std::mt19937_64 gen(42);
  const int d_out = 3, width = d_out + 2;
  const std::size_t m = 50;
  std::uniform_real_distribution<double> zd(z_lo, z_hi), ad(-1, 1);
  std::vector<double> z(m), a(m * d_out);
  for (auto& v : z) v = zd(gen);
  for (auto& v : a) v = ad(gen);
  const auto whole = direct_record(z, a, d_out, 0, m);
  // Cuts with empty pieces (repeated cut points) and several merge orders.
  const std::vector<std::size_t> cuts = {0, 0, 7, 7, 8, 23, 49, 50, 50};
  std::vector<int> order(cuts.size() - 1);
  std::iota(order.begin(), order.end(), 0);
  for (int trial = 0; trial < 5; ++trial) {
    std::shuffle(order.begin(), order.end(), gen);
    std::vector<T> acc(width);
    set_identity(acc.data(), width);
    for (int p : order) {
      const auto rec = direct_record(z, a, d_out, cuts[p], cuts[p + 1]);
      std::vector<T> piece(rec.begin(), rec.end());
      merge_record(piece.data(), acc.data(), width);
    }
    EXPECT_EQ(acc[0], static_cast<T>(whole[0]));
    for (int j = 1; j < width; ++j)
      EXPECT_NEAR(acc[j], static_cast<double>(whole[j]),
                  tol * std::abs(static_cast<double>(whole[1])))
          << "component " << j;
    EXPECT_TRUE(std::isfinite(acc[1]));
  }
}

}  // namespace

TEST(Merge, MatchesDirectComputationDouble) {
  check_merge<double>(-3, 3, 1e-14);
}
TEST(Merge, LogitsThatOverflowNaiveExpDouble) {
  check_merge<double>(600, 800, 1e-14);
}
TEST(Merge, LogitsThatOverflowNaiveExpFloat) {
  check_merge<float>(80, 200, 1e-5);
}

TEST(Merge, IdentityIsNeutral) {
  std::vector<double> id(4), rec = {2.0, 3.0, -1.0, 0.5};
  set_identity(id.data(), 4);
  std::vector<double> x = rec;
  merge_record(id.data(), x.data(), 4);
  EXPECT_EQ(x, rec);
  merge_record(rec.data(), id.data(), 4);
  EXPECT_EQ(id, rec);
}

// forward_partial over many blocks and threads equals the direct record of all neurons.
TEST(Merge, BlockedThreadedForwardEqualsDirect) {
  const std::int64_t n = 6, d = 4, d_out = 2, m = 203;
  Shape s{m, d, d_out, Activation::kSoftmax, Scale::kM};
  std::mt19937_64 gen(7);
  std::normal_distribution<double> nd(0, 1);
  std::vector<double> X(n * d), W(m * d), A(m * d_out);
  for (auto& v : X) v = 30 * nd(gen);  // large logits: exp(z) overflows without the shift
  for (auto& v : W) v = 10 * nd(gen);
  for (auto& v : A) v = nd(gen);
  for (int threads : {1, 2, 3}) {
    for (std::int64_t block : {1, 16, 50, 1000}) {
      Workspace<double> ws(n, block, d_out, threads);
      std::vector<double> part(n * s.record_width());
      forward_partial(s, {n, m, X.data(), W.data(), A.data(), part.data()}, ws);
      for (std::int64_t i = 0; i < n; ++i) {
        std::vector<double> z(m);
        for (std::int64_t r = 0; r < m; ++r) {
          long double acc = 0;
          for (std::int64_t j = 0; j < d; ++j) acc += (long double)X[i * d + j] * W[r * d + j];
          z[r] = static_cast<double>(acc);
        }
        const auto rec = direct_record(z, A, d_out, 0, m);
        ASSERT_GT(rec[0], 710.0L) << "the test wants logits that overflow exp";
        EXPECT_NEAR(part[i * 4 + 0], static_cast<double>(rec[0]), 1e-12 * std::abs((double)rec[0]));
        for (int j = 1; j < 4; ++j)
          EXPECT_NEAR(part[i * 4 + j], static_cast<double>(rec[j]),
                      1e-11 * static_cast<double>(rec[1]))
              << "threads " << threads << " block " << block << " sample " << i << " comp " << j;
      }
    }
  }
}
