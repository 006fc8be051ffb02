// Datasets held in memory and their sources: CSV files with a header, and the paper's synthetic
// setting. Everything here is serial and MPI-free: which rows a rank reads is decided by the
// caller.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace widemax::data {

// X is (n, d) row-major, Y is (n, d_out) row-major. Always double on the host side; the trainer
// converts to its working precision once.
struct Dataset {
  std::int64_t n = 0;
  std::int64_t d = 0;
  std::int64_t d_out = 0;
  std::vector<double> X;
  std::vector<double> Y;
  std::vector<std::string> feature_names;
  std::vector<std::string> target_names;
};

// Reads a CSV file whose first line is a header of column names.
// `targets` names the target columns (in that order); every other column is a feature.
// Only data rows with index in [row_begin, row_end) are parsed and returned (row 0 is the first
// line after the header; row_end < 0 means "to the end"), but every line is checked for its number
// of cells so that a malformed file is refused on every rank alike. Errors (widemax::Error) name
// the file and, where it applies, the 1-based line number and column: empty file, no data rows, a
// missing target column (listing the columns there are), a duplicate column name, a wrong number of
// cells, a cell that is not a number, NaN or Inf in a cell.
Dataset read_csv(const std::filesystem::path& path, const std::vector<std::string>& targets,
                 std::int64_t row_begin = 0, std::int64_t row_end = -1);

// Number of data rows (lines after the header, blank trailing lines ignored) of a CSV file.
std::int64_t count_csv_rows(const std::filesystem::path& path);

// The column names of a CSV file's header, checked as read_csv checks them (an empty file, an
// empty or a duplicate name is an Error naming the file and line).
std::vector<std::string> read_csv_header(const std::filesystem::path& path);

// Per-column mean and standard deviation (population) of a (n, cols) row-major matrix.
struct ColumnStats {
  std::vector<double> mean;
  std::vector<double> stddev;
};
ColumnStats column_stats(const std::vector<double>& M, std::int64_t n, std::int64_t cols);
// M[:, c] = (M[:, c] - mean[c]) / stddev[c]; a constant column (stddev 0) becomes 0.
void standardize(std::vector<double>& M, std::int64_t n, std::int64_t cols, const ColumnStats& s);

// The paper's synthetic setting (arXiv 2405.03251): x uniform on the unit sphere in R^d (so
// ||x|| <= 1) and targets in [-1, 1].
//   Labels::kTeacher: y_k = tanh(2 <v_k, x>) with a fixed random unit vector v_k per output;
//   Labels::kRandom:  y_k uniform in [-1, 1], independent of x.
// Every value is a pure function of (seed, sample index, coordinate), so the same sample is the
// same on every rank whatever range it generates.
enum class Labels { kTeacher, kRandom };
Labels parse_labels(const std::string& s);  // errors name --labels
std::string to_string(Labels l);

struct SyntheticSpec {
  std::int64_t n = 0;
  std::int64_t d = 0;
  std::int64_t d_out = 1;
  Labels labels = Labels::kTeacher;
  std::uint64_t seed = 0;
};
// Generates samples [row_begin, row_end) of the dataset described by `spec` (row_end < 0: to n).
Dataset make_synthetic(const SyntheticSpec& spec, std::int64_t row_begin = 0,
                       std::int64_t row_end = -1);

// Throws an Error naming `what` when any value is NaN or infinite.
void check_finite(const std::vector<double>& v, const std::string& what);

}  // namespace widemax::data
