// Progress output of rank 0 during a run. On a terminal one line is redrawn in place (step, loss,
// rate, ETA) at most a few times a second; in a batch log plain lines are printed at logged steps
// and at least every `min_interval_s`. Does nothing when disabled (other ranks, --quiet).
#pragma once

#include <cstdint>
#include <string>

#include "widemax/core/timer.hpp"

namespace widemax::run {

class Progress {
 public:
  Progress(bool enabled, std::int64_t total_steps, double min_interval_s = 10.0);
  // Called every step; `logged` is true at steps that go to metrics.jsonl.
  void update(std::int64_t step, double loss, double neuron_samples_per_s, bool logged);
  void finish();

 private:
  bool enabled_;
  bool tty_;
  std::int64_t total_;
  double min_interval_s_;
  double last_print_ = -1e30;
  Stopwatch clock_;
};

}  // namespace widemax::run
