// Rank-aware console output. Only rank 0 prints informational lines; warnings from any rank are
// prefixed with the rank. The rank is set once by the app after MPI_Init.
#pragma once

#include <string>

namespace widemax::log {

void set_rank(int rank, int size);
int rank();
// Informational line on stderr from rank 0 only.
void info(const std::string& line);
// Warning on stderr from any rank, prefixed "widemax: warning:" (and "[rank r]" when size > 1).
void warn(const std::string& line);
// A warning about something every rank knows alike (a figure reduced over the ranks): printed
// once, by rank 0, without a rank prefix.
void warn_replicated(const std::string& line);

}  // namespace widemax::log
