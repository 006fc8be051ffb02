// Small statistics: of measurements (step times, benchmark repetitions), and quantiles of very many
// non-negative values (per-neuron displacements) from a fixed log-spaced histogram whose counts
// add up over ranks. Plain functions over local buffers: the caller reduces the counts. Not a
// general histogram (fixed range and resolution) nor an exact quantile.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace widemax {

// The median of a set of values (the mean of the middle two for an even count; 0 when empty).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// A histogram of values v >= 0 in bins of equal width in log2 v: bin 0 holds [0, 2^kMinExp)
// (exact zeros and anything too small to matter), bins 1 .. kBins-2 split [2^kMinExp, 2^kMaxExp)
// into kBinsPerOctave bins per octave, and the last holds [2^kMaxExp, inf) and NaN. A quantile
// read from it is within the bin of the true one: relative resolution 2^(1/128) - 1 = 0.54%.
// Its size does not depend on the number of values, so summing the counts over ranks (doubles,
// exact up to 2^53 values) gives the quantiles of 1e8 neurons without gathering them.
namespace log_histogram {
constexpr int kMinExp = -64;
constexpr int kMaxExp = 16;
constexpr int kBinsPerOctave = 128;
constexpr std::size_t kBins = static_cast<std::size_t>(kMaxExp - kMinExp) * kBinsPerOctave + 2;
// 2^(1/kBinsPerOctave) - 1: the largest relative error of a quantile inside the range.
inline double resolution() {
  return std::exp2(1.0 / kBinsPerOctave) - 1.0;
}

// The bin of v. The octave comes exactly from frexp, so only the position inside an octave is
// rounded (by log2 of a mantissa in [1, 2)); the result is the same on every rank for the same v.
inline std::size_t bin(double v) {
  if (!(v < std::ldexp(1.0, kMaxExp))) return kBins - 1;  // also NaN
  if (!(v >= std::ldexp(1.0, kMinExp))) return 0;
  int e = 0;
  const double f = std::frexp(v, &e);  // v = f 2^e, f in [0.5, 1)
  const int octave = e - 1 - kMinExp;  // v in [2^(e-1), 2^e)
  const int sub = std::clamp(static_cast<int>(std::floor(std::log2(2.0 * f) * kBinsPerOctave)), 0,
                             kBinsPerOctave - 1);
  return 1 + static_cast<std::size_t>(octave) * kBinsPerOctave + static_cast<std::size_t>(sub);
}

// counts (kBins): one more value v.
inline void add(double v, std::span<double> counts) {
  counts[bin(v)] += 1.0;
}

// The value of rank j (0-based, ascending) estimated from the counts: the c values of its bin are
// taken as spread evenly in log space over the bin, the i-th at (i + 1/2) / c of its width. 0 in
// the bottom bin, 2^kMaxExp (a lower bound) in the top one.
inline double ranked_value(std::span<const double> counts, double j) {
  double below = 0;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] <= 0 || j >= below + counts[k]) {
      below += counts[k];
      continue;
    }
    if (k == 0) return 0.0;
    if (k == kBins - 1) return std::ldexp(1.0, kMaxExp);
    const double frac = (j - below + 0.5) / counts[k];
    return std::exp2(kMinExp + (static_cast<double>(k - 1) + frac) / kBinsPerOctave);
  }
  return std::ldexp(1.0, kMaxExp);  // j beyond the last value: not reached for j < total
}

// The q-quantile (q in [0, 1]) of the counted values with numpy's default (linear) definition:
// with the values sorted, rank h = q (N - 1) interpolated between ranks floor(h) and ceil(h). Each
// of the two is estimated inside its own bin, so the result is within the resolution() of the
// exact quantile (relatively) for values in range. 0 when there are no values.
inline double quantile(std::span<const double> counts, double q) {
  double total = 0;
  for (double c : counts) total += c;
  if (total <= 0) return 0.0;
  const double h = q * (total - 1);
  const double lo = std::floor(h), hi = std::ceil(h);
  const double a = ranked_value(counts, lo);
  return hi == lo ? a : a + (h - lo) * (ranked_value(counts, hi) - a);
}
}  // namespace log_histogram

}  // namespace widemax
