// Loading one rank's samples. Each grid row reads only its own range of rows of the file (or
// generates only its own synthetic samples). The held-out split is decided per row by a hash of
// (data seed, row), so the same rows are held out whatever the grid. Standardisation statistics
// come from the training rows, combined over the column communicator (whose ranks together hold
// every row once).
#include "widemax/train/load.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "widemax/core/error.hpp"
#include "widemax/core/random.hpp"
#include "widemax/data/dataset.hpp"

namespace widemax::train {

namespace {

// Global per-column mean and population stddev of a row-split matrix, two-pass for accuracy. A
// column whose largest |x| is huge (or tiny) is summed as x / 2^k, 2^k near that |x|, an exact
// scaling without which x^2 overflows (a 1e160 column) or underflows; ordinary columns use 2^0,
// their arithmetic unchanged. A column without spread (constant, or not finite) is refused by name:
// standardising it would silently zero it.
data::ColumnStats global_stats(const std::vector<double>& M, std::int64_t n_local,
                               std::int64_t n_global, std::int64_t cols,
                               const comm::Communicator& column,
                               const std::vector<std::string>& names, const std::string& option,
                               const std::string& source) {
  data::ColumnStats s;
  s.mean.assign(static_cast<std::size_t>(cols), 0.0);
  s.stddev.assign(static_cast<std::size_t>(cols), 0.0);
  std::vector<double> scale(static_cast<std::size_t>(cols), 0.0);
  for (std::int64_t i = 0; i < n_local; ++i)
    for (std::int64_t c = 0; c < cols; ++c)
      scale[c] = std::max(scale[c], std::abs(M[i * cols + c]));
  column.allreduce_max(std::span<double>(scale));
  for (auto& a : scale)
    a = std::isfinite(a) && (a > 0x1p400 || (a > 0 && a < 0x1p-400))
            ? std::ldexp(1.0, std::ilogb(a))
            : 1.0;
  for (std::int64_t i = 0; i < n_local; ++i)
    for (std::int64_t c = 0; c < cols; ++c) s.mean[c] += M[i * cols + c] / scale[c];
  column.allreduce_sum(std::span<double>(s.mean));
  for (auto& v : s.mean) v /= static_cast<double>(n_global);
  for (std::int64_t i = 0; i < n_local; ++i)
    for (std::int64_t c = 0; c < cols; ++c) {
      const double dev = M[i * cols + c] / scale[c] - s.mean[c];
      s.stddev[c] += dev * dev;
    }
  column.allreduce_sum(std::span<double>(s.stddev));
  for (std::int64_t c = 0; c < cols; ++c) {
    s.stddev[c] = std::sqrt(s.stddev[c] / static_cast<double>(n_global)) * scale[c];
    s.mean[c] *= scale[c];
    const std::string name =
        c < static_cast<std::int64_t>(names.size()) ? names[c] : std::to_string(c + 1);
    // The statistics are reduced: every rank refuses alike.
    WIDEMAX_CHECK_ALL_HINT(std::isfinite(s.mean[c]) && std::isfinite(s.stddev[c]),
                           "check the column's values", option, ": column '", name, "' of ", source,
                           ": its mean or spread is not a finite number");
    WIDEMAX_CHECK_ALL_HINT(s.stddev[c] > 0, "drop the column, or do not standardise", option,
                           ": column '", name, "' of ", source,
                           " has spread 0 over the training samples (every value is ", s.mean[c],
                           "); standardising would divide by 0");
  }
  return s;
}

// Reads (or generates) rows [range) of a source. For CSV the row count is checked against P_data.
data::Dataset read_rows(const DataSpec& c, std::int64_t d_out, const std::string& path,
                        const model::Range& r) {
  if (path.empty())
    return data::make_synthetic(data::SyntheticSpec{c.n, c.d, d_out, c.labels, c.data_seed},
                                r.begin, r.end);
  return data::read_csv(path, c.target, r.begin, r.end);
}

std::int64_t count_rows(const DataSpec& c, const std::string& path, const comm::Grid& grid,
                        const char* option) {
  const std::int64_t n = path.empty() ? c.n : data::count_csv_rows(path);
  WIDEMAX_CHECK(n >= grid.p_data(), option, " ", path.empty() ? "synthetic" : path, " has ", n,
                " rows, fewer than the ", grid.p_data(), " grid rows that split the samples");
  return n;
}

// The physical (1-based) line of data row `row` of a CSV file, for error messages: read_csv skips
// blank lines before the header (and refuses them between data rows), so a row's line is not
// simply row + 2. Reads the file again; called only on the way to an error.
std::int64_t csv_line_of_row(const std::string& file, std::int64_t row) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  std::int64_t number = 0, non_blank = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    if (line.find_first_not_of(" \t\r\n\v\f") == std::string::npos) continue;
    if (++non_blank == row + 2) return number;
  }
  return row + 2;
}

// Splits the rows of `ds` (global rows starting at `first`) into train and test by `held_out`,
// or puts them all in one set.
void split(const DataSpec& c, data::Dataset& ds, std::int64_t first, bool split_by_hash,
           SampleSet& train, SampleSet& test) {
  for (std::int64_t i = 0; i < ds.n; ++i) {
    const std::int64_t row = first + i;
    SampleSet& dst = split_by_hash && held_out(c, row) ? test : train;
    dst.ids.push_back(row);
    dst.X.insert(dst.X.end(), ds.X.begin() + i * ds.d, ds.X.begin() + (i + 1) * ds.d);
    dst.Y.insert(dst.Y.end(), ds.Y.begin() + i * ds.d_out, ds.Y.begin() + (i + 1) * ds.d_out);
  }
}

}  // namespace

bool held_out(const DataSpec& c, std::int64_t row) {
  return c.test_fraction > 0 && rng::uniform(c.data_seed, rng::kStreamSplit,
                                             static_cast<std::uint64_t>(row), 0) < c.test_fraction;
}

std::vector<double> one_hot(const std::vector<double>& labels, std::int64_t K,
                            const std::vector<std::int64_t>& rows, const std::string& file) {
  std::vector<double> Y(labels.size() * static_cast<std::size_t>(K), 0.0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double v = labels[i];
    if (!(v == std::floor(v) && v >= 0 && v < static_cast<double>(K)))
      WIDEMAX_FAIL_HINT("class labels must be whole numbers 0 .. K-1 for --classes K", file, ":",
                        csv_line_of_row(file, rows[i]), ": class label ", v, " is not in 0..",
                        K - 1);
    Y[i * K + static_cast<std::size_t>(v)] = 1.0;
  }
  return Y;
}

LocalData load_data(const DataSpec& c, std::int64_t d_out, bool d_out_given,
                    const comm::Grid& grid) {
  LocalData out;
  const std::string& path = c.csv;
  const std::string what = c.is_csv() ? c.csv : std::string("synthetic data");
  std::int64_t n_rows = 0;
  data::Dataset ds;
  // Reading is this rank's own work (its rows, its file system): the ranks agree on its outcome
  // before the collectives below, so a bad file or value is reported once, naming the rank that
  // saw it when not every rank did.
  comm::agree_on_errors(grid.world(), [&] {
    n_rows = count_rows(c, path, grid, "--data");
    const model::Range rows = model::shard_range(n_rows, grid.p_data(), grid.data_index());
    ds = read_rows(c, d_out, path, rows);
    data::check_finite(ds.X, what + " (features)");
    data::check_finite(ds.Y, what + " (targets)");
    WIDEMAX_CHECK(!d_out_given || c.classes > 0 || d_out == ds.d_out, "--d-out ", d_out,
                  " does not match the ", ds.d_out, " --target column(s) of ", c.source());
    split(c, ds, rows.begin, true, out.train, out.test);

    if (c.n_test > 0) {
      // Rows n .. n + n_test - 1 of the same generator: every value is a pure function of the row,
      // so the training rows are those of a run without --n-test and the test rows those of a run
      // with --n n + n_test, on every grid.
      WIDEMAX_CHECK(c.n_test >= grid.p_data(), "--n-test ", c.n_test, " is fewer than the ",
                    grid.p_data(), " grid rows that split the samples");
      const model::Range trows = model::shard_range(c.n_test, grid.p_data(), grid.data_index());
      data::Dataset tds = data::make_synthetic(
          data::SyntheticSpec{c.n + c.n_test, c.d, d_out, c.labels, c.data_seed}, c.n + trows.begin,
          c.n + trows.end);
      SampleSet unused;
      split(c, tds, c.n + trows.begin, false, out.test, unused);
    }

    if (!c.test_data.empty()) {
      const std::int64_t n_test = count_rows(c, c.test_data, grid, "--test-data");
      const model::Range trows = model::shard_range(n_test, grid.p_data(), grid.data_index());
      data::Dataset tds = data::read_csv(c.test_data, c.target, trows.begin, trows.end);
      WIDEMAX_CHECK(tds.d == ds.d, "--test-data ", c.test_data, " has ", tds.d,
                    " feature columns, the training data ", ds.d);
      data::check_finite(tds.X, c.test_data + " (features)");
      data::check_finite(tds.Y, c.test_data + " (targets)");
      SampleSet unused;
      split(c, tds, trows.begin, false, out.test, unused);
    }
    // One-hot labels (--classes excludes --standardize-target, so nothing below reads the label
    // column): checked here, where a bad label in one grid row's rows is agreed on.
    if (c.classes > 0) {
      out.train.Y = one_hot(out.train.Y, c.classes, out.train.ids, c.csv);
      out.test.Y =
          one_hot(out.test.Y, c.classes, out.test.ids, c.test_data.empty() ? c.csv : c.test_data);
    }
  });

  // Global counts, and every training id (mini-batches draw from them). Held-out membership is a
  // pure function of the row, so each rank lists the training ids without communication.
  double counts[2] = {static_cast<double>(out.train.size()), static_cast<double>(out.test.size())};
  grid.column().allreduce_sum(std::span<double>(counts));
  out.train.n_global = static_cast<std::int64_t>(counts[0]);
  out.test.n_global = static_cast<std::int64_t>(counts[1]);
  WIDEMAX_CHECK_ALL(out.train.n_global >= 1, "--test-fraction ", c.test_fraction,
                    " leaves no training samples");
  out.train_ids_global.reserve(static_cast<std::size_t>(out.train.n_global));
  for (std::int64_t row = 0; row < n_rows; ++row)
    if (!held_out(c, row)) out.train_ids_global.push_back(row);

  out.d = ds.d;
  out.d_out = ds.d_out;
  data::Standardization& st = out.standardization;
  st = {ds.feature_names, ds.target_names, c.classes, c.standardize, {}, c.standardize_target, {}};
  if (c.standardize) {
    st.x_stats = global_stats(out.train.X, out.train.size(), out.train.n_global, out.d,
                              grid.column(), ds.feature_names, "--standardize", what);
    data::standardize(out.train.X, out.train.size(), out.d, st.x_stats);
    data::standardize(out.test.X, out.test.size(), out.d, st.x_stats);
  }
  if (c.standardize_target) {
    st.y_stats = global_stats(out.train.Y, out.train.size(), out.train.n_global, out.d_out,
                              grid.column(), ds.target_names, "--standardize-target", what);
    data::standardize(out.train.Y, out.train.size(), out.d_out, st.y_stats);
    data::standardize(out.test.Y, out.test.size(), out.d_out, st.y_stats);
  }
  if (c.classes > 0) {
    out.d_out = c.classes;
    out.classes = c.classes;
  }
  return out;
}

}  // namespace widemax::train
