// Collective .npy I/O for neuron-major tensors (docs/design.md §5): a (rows, cols) array whose rows
// are split across the ranks of a communicator in contiguous ranges. Every rank writes (or reads)
// its own range with MPI-IO; nothing is gathered on one rank. Writes go to a temporary name and are
// renamed by rank 0 once every rank has finished, so a crash never leaves a file that looks whole.
#pragma once

#include <cstdint>
#include <filesystem>

#include "widemax/comm/communicator.hpp"

namespace widemax::comm {

// Collective over `comm`. This rank holds rows [row_begin, row_begin + local_rows) of
// `global_rows`. Ranks that hold no rows pass local_rows = 0. The ranges must tile [0,
// global_rows).
template <class T>
void write_npy_rows(const Communicator& comm, const std::filesystem::path& path, const T* local,
                    std::int64_t row_begin, std::int64_t local_rows, std::int64_t global_rows,
                    std::int64_t cols);

}  // namespace widemax::comm
