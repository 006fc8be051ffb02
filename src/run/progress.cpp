// Progress output. See progress.hpp.
#include "widemax/run/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace widemax::run {

namespace {
std::string eta_text(double seconds) {
  char buf[32];
  if (seconds < 0 || seconds > 1e7) return "?";
  const long s = static_cast<long>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}
}  // namespace

Progress::Progress(bool enabled, std::int64_t total_steps, double min_interval_s)
    : enabled_(enabled),
      tty_(enabled && ::isatty(STDERR_FILENO)),
      total_(total_steps),
      min_interval_s_(min_interval_s) {}

bool Progress::due(std::int64_t step, bool logged) const {
  if (!enabled_) return false;
  const double min_gap = tty_ ? 0.2 : min_interval_s_;
  return step >= total_ || (!tty_ && logged) || clock_.seconds() - last_print_ >= min_gap;
}

void Progress::print(std::int64_t step, const std::string& figures, double rate) {
  const double now = clock_.seconds();
  last_print_ = now;
  const double eta =
      step > 0 ? now / static_cast<double>(step) * static_cast<double>(total_ - step) : -1;
  std::fprintf(stderr, "%sstep %lld/%lld  %s  %.3g neuron-samples/s  elapsed %s  ETA %s%s",
               tty_ ? "\r\033[K" : "", static_cast<long long>(step), static_cast<long long>(total_),
               figures.c_str(), rate, eta_text(now).c_str(), eta_text(eta).c_str(),
               tty_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::update(std::int64_t step, double loss, double rate, bool logged) {
  if (!due(step, logged)) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "loss %.6e", loss);
  print(step, buf, rate);
}

void Progress::update(std::int64_t step, const ProgressFigures& f, double rate, bool logged) {
  if (!due(step, logged)) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s mean loss %.6e", f.batch ? "batch" : "train",
                f.train_mean_loss);
  std::string text = buf;
  if (!std::isnan(f.test_mean_loss)) {
    std::snprintf(buf, sizeof buf, "  test mean loss %.6e", f.test_mean_loss);
    text += buf;
  }
  if (!std::isnan(f.train_accuracy)) {
    std::snprintf(buf, sizeof buf, "  train accuracy %.4f", f.train_accuracy);
    text += buf;
  }
  if (!std::isnan(f.test_accuracy)) {
    std::snprintf(buf, sizeof buf, "  test accuracy %.4f", f.test_accuracy);
    text += buf;
  }
  print(step, text, rate);
}

void Progress::finish() {
  if (enabled_ && tty_) std::fprintf(stderr, "\n");
}

}  // namespace widemax::run
