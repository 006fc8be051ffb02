// Progress output. See progress.hpp.
#include "widemax/run/progress.hpp"

#include <unistd.h>

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

void Progress::update(std::int64_t step, double loss, double rate, bool logged) {
  if (!enabled_) return;
  const double now = clock_.seconds();
  const double min_gap = tty_ ? 0.2 : min_interval_s_;
  const bool last = step >= total_;
  if (!(last || (!tty_ && logged) || now - last_print_ >= min_gap)) return;
  last_print_ = now;
  const double eta =
      step > 0 ? now / static_cast<double>(step) * static_cast<double>(total_ - step) : -1;
  std::fprintf(stderr, "%sstep %lld/%lld  loss %.6e  %.3g neuron-samples/s  elapsed %s  ETA %s%s",
               tty_ ? "\r\033[K" : "", static_cast<long long>(step), static_cast<long long>(total_),
               loss, rate, eta_text(now).c_str(), eta_text(eta).c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_ && tty_) std::fprintf(stderr, "\n");
}

}  // namespace widemax::run
