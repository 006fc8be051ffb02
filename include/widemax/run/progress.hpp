// Progress output of rank 0 during a run. On a terminal one line is redrawn in place (step, loss,
// rate, ETA) at most a few times a second; in a batch log plain lines are printed at logged steps
// and at least every `min_interval_s`. Does nothing when disabled (other ranks, --quiet).
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "widemax/core/timer.hpp"

namespace widemax::run {

// What `widemax train` shows: mean losses (the sums divided by the samples), so that training and
// held-out figures compare. NaN: not shown.
struct ProgressFigures {
  double train_mean_loss = std::numeric_limits<double>::quiet_NaN();  // of this step's samples
  bool batch = false;  // the step's samples are a mini-batch ("batch mean loss")
  // From the latest logged step (the held-out set is evaluated only there).
  double test_mean_loss = std::numeric_limits<double>::quiet_NaN();
  double train_accuracy = std::numeric_limits<double>::quiet_NaN();
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();
};

class Progress {
 public:
  Progress(bool enabled, std::int64_t total_steps, double min_interval_s = 10.0);
  // Called every step; `logged` is true at steps that go to metrics.jsonl.
  void update(std::int64_t step, double loss, double neuron_samples_per_s, bool logged);
  void update(std::int64_t step, const ProgressFigures& figures, double neuron_samples_per_s,
              bool logged);
  void finish();

 private:
  // Prints `figures` (already formatted) when due.
  void print(std::int64_t step, const std::string& figures, double rate);
  bool due(std::int64_t step, bool logged) const;

  bool enabled_;
  bool tty_;
  std::int64_t total_;
  double min_interval_s_;
  double last_print_ = -1e30;
  Stopwatch clock_;
};

}  // namespace widemax::run
