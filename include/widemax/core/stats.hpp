// Small statistics of measurements (step times, benchmark repetitions).
#pragma once

#include <algorithm>
#include <vector>

namespace widemax {

// The median of a set of values (the mean of the middle two for an even count; 0 when empty).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace widemax
