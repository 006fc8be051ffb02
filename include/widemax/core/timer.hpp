// Wall-clock timers for the step-time split (compute vs communication) in summary.json, and the
// median timing of benchmarks.
#pragma once

#include <chrono>
#include <vector>

#include "widemax/core/stats.hpp"

namespace widemax {

class Stopwatch {
 public:
  Stopwatch() : start_(clock::now()) {}
  void reset() { start_ = clock::now(); }
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

 private:
  using clock = std::chrono::steady_clock;
  clock::time_point start_;
};

// Adds the lifetime of the scope to an accumulator: { ScopedTimer t(comm_s); MPI_Allreduce(...); }
class ScopedTimer {
 public:
  explicit ScopedTimer(double& acc) : acc_(acc) {}
  ~ScopedTimer() { acc_ += sw_.seconds(); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  double& acc_;
  Stopwatch sw_;
};

// Median over `repeats` of the seconds `f` takes, after one warm-up call (benchmarks).
template <class F>
double time_median(int repeats, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    Stopwatch sw;
    f();
    t.push_back(sw.seconds());
  }
  return median(t);
}

}  // namespace widemax
