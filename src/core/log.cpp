// Rank-aware console output. See log.hpp.
#include "widemax/core/log.hpp"

#include <cstdio>

namespace widemax::log {

namespace {
int g_rank = 0;
int g_size = 1;
}  // namespace

void set_rank(int rank, int size) {
  g_rank = rank;
  g_size = size;
}

int rank() {
  return g_rank;
}

void info(const std::string& line) {
  if (g_rank != 0) return;
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void warn(const std::string& line) {
  if (g_size > 1)
    std::fprintf(stderr, "widemax: warning: [rank %d] %s\n", g_rank, line.c_str());
  else
    std::fprintf(stderr, "widemax: warning: %s\n", line.c_str());
  std::fflush(stderr);
}

void warn_replicated(const std::string& line) {
  if (g_rank != 0) return;
  std::fprintf(stderr, "widemax: warning: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace widemax::log
