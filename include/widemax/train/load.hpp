// A rank's share of the training (and held-out) samples, and loading it: each grid row reads or
// generates only its own range of rows. Not here: what the network does with them (trainer.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "widemax/comm/grid.hpp"
#include "widemax/data/standardization.hpp"
#include "widemax/train/config.hpp"

namespace widemax::train {

// Samples held by one rank: rows X (size, d) and Y (size, d_out), row-major, in double, with their
// global ids (sorted). n_global counts the set over all grid rows.
struct SampleSet {
  std::vector<std::int64_t> ids;
  std::vector<double> X, Y;
  std::int64_t n_global = 0;
  std::int64_t size() const { return static_cast<std::int64_t>(ids.size()); }
};

struct LocalData {
  std::int64_t d = 0;
  std::int64_t d_out = 0;
  SampleSet train;
  SampleSet test;  // empty without --test-fraction / --test-data
  // Global ids of every training sample (the same on every rank): what mini-batches draw from.
  std::vector<std::int64_t> train_ids_global;
  std::int64_t classes = 0;  // > 0: the targets are one-hot class labels (accuracy is logged)
  // CSV data: the columns and the statistics applied to them (RUN/standardization.json).
  data::Standardization standardization;
};

// Loads this rank's samples: each grid row reads (or generates) only its own range of rows. The
// held-out split is by a hash of (data seed, row), so it does not depend on the grid. Standardising
// uses statistics of the training samples combined over the column communicator; --classes turns a
// label column into one-hot targets. Throws an Error naming the file or option.
// `d_out` is the output dimension of synthetic data; for CSV data it is checked against the target
// columns when `d_out_given`.
LocalData load_data(const DataSpec& spec, std::int64_t d_out, bool d_out_given,
                    const comm::Grid& grid);

// Whether data row `row` is held out by --test-fraction (a hash of the data seed and the row).
bool held_out(const DataSpec& spec, std::int64_t row);
// Replaces a label column (n, 1) by one-hot rows (n, K); `rows` are the labels' data rows in
// `file`, for the message that names a label outside 0..K-1 by its line.
std::vector<double> one_hot(const std::vector<double>& labels, std::int64_t K,
                            const std::vector<std::int64_t>& rows, const std::string& file);

}  // namespace widemax::train
