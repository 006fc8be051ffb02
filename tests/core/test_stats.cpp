// The log-histogram quantiles (core/stats.hpp) against the exact quantile of the sorted values
// (numpy's linear definition, computed here independently): within the bin resolution
// 2^(1/128) - 1 for lognormal, uniform, zero-heavy and degenerate sets of 1, 2, 1000 and 1e5 values;
// and counts summed from parts (as the ranks sum them) give the quantiles of the whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "widemax/core/stats.hpp"

namespace widemax {
namespace {

// numpy.quantile(v, q) with the default method 'linear'.
double exact_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double h = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

std::vector<double> counts_of(const std::vector<double>& v) {
  std::vector<double> c(log_histogram::kBins, 0.0);
  for (double x : v) log_histogram::add(x, c);
  return c;
}

void expect_close(const std::vector<double>& v, const std::string& what) {
  const std::vector<double> c = counts_of(v);
  // The bin resolution; the 1e-12 covers the rounding of log2 and exp2 at a bin's edge.
  const double tol = log_histogram::resolution() * (1 + 1e-12);
  for (double q : {0.0, 0.01, 0.5, 0.9, 0.99, 1.0}) {
    const double exact = exact_quantile(v, q);
    const double est = log_histogram::quantile(c, q);
    if (exact == 0) {
      EXPECT_EQ(est, 0.0) << what << " q=" << q;
    } else {
      EXPECT_LE(std::abs(est - exact), tol * exact)
          << what << " m=" << v.size() << " q=" << q << " exact " << exact << " histogram " << est;
    }
  }
}

TEST(LogHistogram, ResolutionIsAFractionOfAPercent) {
  EXPECT_NEAR(log_histogram::resolution(), 0.00543, 1e-5);
}

TEST(LogHistogram, QuantilesWithinTheBinResolution) {
  std::mt19937_64 gen(12345);
  for (std::size_t m : {1ul, 2ul, 1000ul, 100000ul}) {
    std::lognormal_distribution<double> lognormal(-3.0, 2.0);
    std::uniform_real_distribution<double> uniform(0.0, 5.0);
    std::vector<double> ln(m), un(m), zeros(m), spread(m);
    for (std::size_t i = 0; i < m; ++i) {
      ln[i] = lognormal(gen);
      un[i] = uniform(gen);
      // A third exact zeros (neurons that did not move), the rest lognormal.
      zeros[i] = i % 3 == 0 ? 0.0 : lognormal(gen);
      // Over 40 octaves, near both ends of the range.
      spread[i] = std::exp2(-50.0 + 40.0 * uniform(gen) / 5.0);
    }
    expect_close(ln, "lognormal");
    expect_close(un, "uniform");
    expect_close(zeros, "with zeros");
    expect_close(spread, "40 octaves");
    expect_close(std::vector<double>(m, 0.125), "all equal");
  }
}

TEST(LogHistogram, TwoFarApartValuesInterpolateLinearly) {
  // numpy: the median of {1, 100} is 50.5, not a value inside either one's bin.
  const std::vector<double> c = counts_of({1.0, 100.0});
  EXPECT_NEAR(log_histogram::quantile(c, 0.5), 50.5, 50.5 * log_histogram::resolution());
}

TEST(LogHistogram, PartsSumToTheWhole) {
  std::mt19937_64 gen(7);
  std::lognormal_distribution<double> lognormal(0.0, 1.0);
  std::vector<double> v(3001);
  for (double& x : v) x = lognormal(gen);
  std::vector<double> sum(log_histogram::kBins, 0.0);
  for (std::size_t p = 0; p < 3; ++p) {  // three uneven shards
    const std::size_t b = p * 1000, e = p == 2 ? v.size() : b + 1000;
    const auto part = counts_of(std::vector<double>(v.begin() + b, v.begin() + e));
    for (std::size_t k = 0; k < sum.size(); ++k) sum[k] += part[k];
  }
  const auto whole = counts_of(v);
  EXPECT_EQ(sum, whole);
  for (double q : {0.5, 0.9, 0.99})
    EXPECT_EQ(log_histogram::quantile(sum, q), log_histogram::quantile(whole, q));
}

TEST(LogHistogram, OutOfRangeValuesGoToTheEndBins) {
  EXPECT_EQ(log_histogram::bin(0.0), 0u);
  EXPECT_EQ(log_histogram::bin(1e-30), 0u);  // below 2^-64
  EXPECT_EQ(log_histogram::bin(std::ldexp(1.0, -64)), 1u);
  EXPECT_EQ(log_histogram::bin(1e6), log_histogram::kBins - 1);  // above 2^16
  EXPECT_EQ(log_histogram::bin(std::nan("")), log_histogram::kBins - 1);
  EXPECT_EQ(log_histogram::bin(1.0), 1u + 64u * 128u);  // 2^0 starts octave 64
  EXPECT_EQ(log_histogram::quantile(std::vector<double>(log_histogram::kBins, 0.0), 0.5), 0.0);
}

}  // namespace
}  // namespace widemax
