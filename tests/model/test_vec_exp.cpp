// The SLEEF-backed vector exp against the scalar std::exp: at most a few ulp apart over the whole
// useful range, including the tail handled by the scalar remainder loop.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "widemax/model/vec_exp.hpp"

using widemax::model::vec_exp;

template <class T>
void check_range(T lo, T hi, std::size_t count) {
  std::vector<T> x(count), y(count);
  for (std::size_t i = 0; i < count; ++i) x[i] = lo + (hi - lo) * static_cast<T>(i) / (count - 1);
  vec_exp(x.data(), y.data(), static_cast<std::int64_t>(count));
  const T eps = std::numeric_limits<T>::epsilon();
  for (std::size_t i = 0; i < count; ++i) {
    const T ref = std::exp(x[i]);
    if (ref == T(0) || !std::isfinite(ref)) continue;
    ASSERT_LE(std::abs(y[i] - ref), 4 * eps * ref)
        << "x = " << x[i] << " isa " << widemax::model::vec_exp_isa();
  }
}

TEST(VecExp, DoubleWithinFourUlp) {
  check_range<double>(-700.0, 700.0, 100003);
}
TEST(VecExp, FloatWithinFourUlp) {
  check_range<float>(-85.0f, 85.0f, 100003);
}

TEST(VecExp, InPlaceAndSpecialValues) {
  std::vector<double> x = {0.0, -1000.0, 1.0, -0.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0};
  vec_exp(x.data(), x.data(), static_cast<std::int64_t>(x.size()));
  EXPECT_EQ(x[0], 1.0);
  EXPECT_EQ(x[1], 0.0);  // the softmax shift z - M can be very negative: must flush to 0, not NaN
  EXPECT_NEAR(x[2], std::exp(1.0), 4e-16 * std::exp(1.0));
}

TEST(VecExp, ReportsAnIsa) {
  const std::string isa = widemax::model::vec_exp_isa();
  EXPECT_TRUE(isa == "avx512" || isa == "avx2" || isa == "scalar") << isa;
}

// exp(x - shift) in one sweep: the same accuracy against std::exp of the rounded difference, for
// a shift that makes large logits safe (the softmax maximum), on both vector widths' tails.
template <class T>
void check_shifted(T lo, T hi, T shift, std::size_t count) {
  std::vector<T> x(count), y(count);
  for (std::size_t i = 0; i < count; ++i) x[i] = lo + (hi - lo) * static_cast<T>(i) / (count - 1);
  widemax::model::vec_exp_shifted(x.data(), shift, y.data(), static_cast<std::int64_t>(count));
  const T eps = std::numeric_limits<T>::epsilon();
  for (std::size_t i = 0; i < count; ++i) {
    const T ref = std::exp(x[i] - shift);
    if (ref < std::numeric_limits<T>::min()) continue;  // subnormal: relative ulps mean little
    ASSERT_LE(std::abs(y[i] - ref), 4 * eps * ref) << "x = " << x[i] << " shift " << shift;
  }
}

TEST(VecExp, ShiftedWithinFourUlp) {
  check_shifted<double>(200.0, 1000.0, 1000.0, 10007);  // exp(x) alone would overflow
  check_shifted<float>(20.0f, 120.0f, 120.0f, 10007);
  check_shifted<double>(-3.0, 3.0, -1.5, 13);  // shorter than one vector: the scalar tail only
}
