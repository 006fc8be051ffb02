// Tests of make_synthetic: the geometry (unit sphere), the teacher relation recomputed here from
// rng:: directly, the random labels, that a row range is a slice of the full dataset, and the
// option errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "widemax/core/error.hpp"
#include "widemax/core/random.hpp"
#include "widemax/data/dataset.hpp"

namespace widemax::data {
namespace {

SyntheticSpec spec(std::int64_t n, std::int64_t d, std::int64_t d_out, std::string labels,
                   std::uint64_t seed) {
  SyntheticSpec s;
  s.n = n;
  s.d = d;
  s.d_out = d_out;
  s.labels = parse_labels(labels);
  s.seed = seed;
  return s;
}

TEST(Synthetic, ShapesAndNames) {
  const Dataset ds = make_synthetic(spec(10, 3, 2, "teacher", 1));
  EXPECT_EQ(ds.n, 10);
  EXPECT_EQ(ds.d, 3);
  EXPECT_EQ(ds.d_out, 2);
  EXPECT_EQ(ds.X.size(), 30u);
  EXPECT_EQ(ds.Y.size(), 20u);
  EXPECT_EQ(ds.feature_names, (std::vector<std::string>{"x0", "x1", "x2"}));
  EXPECT_EQ(ds.target_names, (std::vector<std::string>{"y0", "y1"}));
}

TEST(Synthetic, InputsAreOnTheUnitSphereAndIsotropic) {
  const std::int64_t n = 20000, d = 5;
  const Dataset ds = make_synthetic(spec(n, d, 1, "teacher", 3));
  std::vector<double> mean(d, 0), second(d, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    double norm2 = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double x = ds.X[i * d + j];
      norm2 += x * x;
      mean[j] += x / n;
      second[j] += x * x / n;
    }
    ASSERT_NEAR(std::sqrt(norm2), 1.0, 1e-12) << "sample " << i;
  }
  // Uniform on S^{d-1}: E[x_j] = 0, E[x_j^2] = 1/d, Var(x_j) = 1/d, Var(x_j^2) < E[x_j^4] < 1/d.
  for (std::int64_t j = 0; j < d; ++j) {
    EXPECT_NEAR(mean[j], 0.0, 5 * std::sqrt(1.0 / d / n)) << j;
    EXPECT_NEAR(second[j], 1.0 / d, 5 * std::sqrt(1.0 / d / n)) << j;
  }
}

TEST(Synthetic, TeacherLabelsMatchIndependentRecomputation) {
  const std::int64_t n = 50, d = 7, d_out = 3;
  const std::uint64_t seed = 12345;
  const Dataset ds = make_synthetic(spec(n, d, d_out, "teacher", seed));
  for (std::int64_t i = 0; i < n; ++i) {
    std::vector<double> x(d);
    double nx = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      x[j] = rng::normal(seed, rng::kStreamDataX, i, j);
      nx += x[j] * x[j];
    }
    for (std::int64_t j = 0; j < d; ++j) EXPECT_NEAR(ds.X[i * d + j], x[j] / std::sqrt(nx), 1e-15);
    for (std::int64_t k = 0; k < d_out; ++k) {
      double vv = 0, vx = 0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double v = rng::normal(seed, rng::kStreamDataTeacher, k, j);
        vv += v * v;
        vx += v * x[j];
      }
      const double want = std::tanh(2.0 * vx / std::sqrt(vv * nx));
      EXPECT_NEAR(ds.Y[i * d_out + k], want, 1e-13) << i << "," << k;
      EXPECT_LE(std::abs(ds.Y[i * d_out + k]), std::tanh(2.0) + 1e-15);
    }
  }
}

TEST(Synthetic, RandomLabelsAreUniformAndIndependentOfX) {
  const std::int64_t n = 20000, d = 4, d_out = 2;
  const std::uint64_t seed = 99;
  const Dataset ds = make_synthetic(spec(n, d, d_out, "random", seed));
  double sum = 0, sum2 = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < d_out; ++k) {
      const double y = ds.Y[i * d_out + k];
      ASSERT_GE(y, -1.0);
      ASSERT_LE(y, 1.0);
      EXPECT_EQ(y, 2 * rng::uniform(seed, rng::kStreamDataTeacher, i, k) - 1);
      sum += y;
      sum2 += y * y;
    }
  const double m = n * d_out;
  EXPECT_NEAR(sum / m, 0.0, 5 * std::sqrt(1.0 / 3 / m));        // U(-1,1): mean 0, var 1/3
  EXPECT_NEAR(sum2 / m, 1.0 / 3, 5 * std::sqrt(4.0 / 45 / m));  // Var(y^2) = 1/5 - 1/9
  // The inputs are the same whatever the labels.
  EXPECT_EQ(ds.X, make_synthetic(spec(n, d, d_out, "teacher", seed)).X);
}

TEST(Synthetic, RangeIsSliceOfFullGeneration) {
  for (const std::string labels : {"teacher", "random"}) {
    const auto s = spec(40, 6, 3, labels, 7);
    const Dataset full = make_synthetic(s);
    for (const auto& [b, e] :
         std::vector<std::pair<int, int>>{{0, 40}, {13, 29}, {39, 40}, {5, 5}}) {
      const Dataset part = make_synthetic(s, b, e);
      EXPECT_EQ(part.n, e - b);
      EXPECT_EQ(part.X, std::vector<double>(full.X.begin() + b * 6, full.X.begin() + e * 6));
      EXPECT_EQ(part.Y, std::vector<double>(full.Y.begin() + b * 3, full.Y.begin() + e * 3));
    }
    EXPECT_EQ(make_synthetic(s, 30, -1).X,
              std::vector<double>(full.X.begin() + 30 * 6, full.X.end()));
  }
}

TEST(Synthetic, DifferentSeedsDiffer) {
  const Dataset a = make_synthetic(spec(20, 4, 2, "teacher", 1));
  const Dataset b = make_synthetic(spec(20, 4, 2, "teacher", 2));
  const Dataset a2 = make_synthetic(spec(20, 4, 2, "teacher", 1));
  EXPECT_EQ(a.X, a2.X);
  EXPECT_EQ(a.Y, a2.Y);
  int same_x = 0, same_y = 0;
  for (std::size_t k = 0; k < a.X.size(); ++k) same_x += a.X[k] == b.X[k];
  for (std::size_t k = 0; k < a.Y.size(); ++k) same_y += a.Y[k] == b.Y[k];
  EXPECT_EQ(same_x, 0);
  EXPECT_EQ(same_y, 0);
}

testing::AssertionResult throws_with(const std::function<void()>& fn,
                                     std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& part : parts)
      if (msg.find(part) == std::string::npos)
        return testing::AssertionFailure() << "message lacks \"" << part << "\": " << msg;
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << "no widemax::Error thrown";
}

TEST(Synthetic, BadOptionsNameTheOption) {
  EXPECT_TRUE(throws_with([] { make_synthetic(spec(0, 3, 1, "teacher", 0)); }, {"--n"}));
  EXPECT_TRUE(throws_with([] { make_synthetic(spec(5, 0, 1, "teacher", 0)); }, {"--d:"}));
  EXPECT_TRUE(throws_with([] { make_synthetic(spec(5, 3, 0, "teacher", 0)); }, {"--d-out"}));
  EXPECT_TRUE(throws_with([] { make_synthetic(spec(5, 3, 1, "gaussian", 0)); },
                          {"--labels", "'gaussian'"}));
  EXPECT_THROW(make_synthetic(spec(5, 3, 1, "teacher", 0), 2, 6), Error);
  EXPECT_THROW(make_synthetic(spec(5, 3, 1, "teacher", 0), 4, 3), Error);
}

}  // namespace
}  // namespace widemax::data
