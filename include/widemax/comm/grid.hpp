// The process grid of docs/design.md §2.3: P = P_data x P_width ranks. Ranks of one grid row hold
// the same samples and split the neurons (the normaliser all-reduce runs on the row communicator);
// ranks of one grid column hold the same neurons and split the samples (gradients and the loss are
// summed on the column communicator). Rank r of the world sits at row r / P_width, column r %
// P_width. This class owns the communicators; which samples and neurons a rank holds is shard
// arithmetic (model/shard.hpp), not decided here.
#pragma once

#include <mpi.h>

#include <string>

#include "widemax/comm/communicator.hpp"

namespace widemax::comm {

class Grid {
 public:
  // Collective over `world`. Throws an Error when p_data * p_width != size of `world`.
  Grid(MPI_Comm world, int p_data, int p_width);
  Grid(const Grid&) = delete;
  Grid& operator=(const Grid&) = delete;

  const Communicator& world() const { return world_; }
  // Ranks with the same samples (one grid row); size p_width.
  const Communicator& row() const { return row_; }
  // Ranks with the same neurons (one grid column); size p_data.
  const Communicator& column() const { return col_; }
  int p_data() const { return p_data_; }
  int p_width() const { return p_width_; }
  int data_index() const { return world_.rank() / p_width_; }
  int width_index() const { return world_.rank() % p_width_; }
  // "PdxPw", as config.json, summaries and checkpoints record it.
  std::string name() const { return std::to_string(p_data_) + "x" + std::to_string(p_width_); }

 private:
  int p_data_;
  int p_width_;
  Communicator world_;
  Communicator row_;
  Communicator col_;
};

}  // namespace widemax::comm
