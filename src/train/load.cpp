// Loading one rank's samples. Each grid row reads only its own range of the file (or generates
// only its own synthetic samples); standardisation statistics are combined over the column
// communicator, whose ranks together hold every sample once.
#include <cmath>

#include "widemax/core/error.hpp"
#include "widemax/data/dataset.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

namespace {

// Global per-column mean and population stddev of a row-split matrix, two-pass for accuracy.
data::ColumnStats global_stats(const std::vector<double>& M, std::int64_t n_local,
                               std::int64_t n_global, std::int64_t cols,
                               const comm::Communicator& column) {
  data::ColumnStats s;
  s.mean.assign(static_cast<std::size_t>(cols), 0.0);
  s.stddev.assign(static_cast<std::size_t>(cols), 0.0);
  for (std::int64_t i = 0; i < n_local; ++i)
    for (std::int64_t c = 0; c < cols; ++c) s.mean[c] += M[i * cols + c];
  column.allreduce_sum(std::span<double>(s.mean));
  for (auto& v : s.mean) v /= static_cast<double>(n_global);
  for (std::int64_t i = 0; i < n_local; ++i)
    for (std::int64_t c = 0; c < cols; ++c) {
      const double dev = M[i * cols + c] - s.mean[c];
      s.stddev[c] += dev * dev;
    }
  column.allreduce_sum(std::span<double>(s.stddev));
  for (auto& v : s.stddev) v = std::sqrt(v / static_cast<double>(n_global));
  return s;
}

}  // namespace

LocalData load_data(const Config& c, const comm::Grid& grid) {
  LocalData out;
  data::Dataset ds;
  if (c.is_csv()) {
    out.n_global = data::count_csv_rows(c.data);
    WIDEMAX_CHECK(out.n_global >= grid.p_data(), "--data ", c.data, " has ", out.n_global,
                  " rows, fewer than the ", grid.p_data(), " grid rows that split the samples");
    out.samples = model::shard_range(out.n_global, grid.p_data(), grid.data_index());
    ds = data::read_csv(c.data, c.target, out.samples.begin, out.samples.end);
    WIDEMAX_CHECK(!c.d_out_given || c.d_out == ds.d_out, "--d-out ", c.d_out, " does not match the ",
                  ds.d_out, " --target column(s) of ", c.data);
  } else {
    WIDEMAX_CHECK(c.n >= grid.p_data(), "--n ", c.n, " is smaller than the ", grid.p_data(),
                  " grid rows that split the samples");
    out.n_global = c.n;
    out.samples = model::shard_range(c.n, grid.p_data(), grid.data_index());
    ds = data::make_synthetic(data::SyntheticSpec{c.n, c.d, c.d_out, c.labels, c.data_seed},
                              out.samples.begin, out.samples.end);
  }
  const std::string what = c.is_csv() ? c.data : std::string("synthetic data");
  data::check_finite(ds.X, what + " (features)");
  data::check_finite(ds.Y, what + " (targets)");
  const std::int64_t n_local = out.samples.size();
  if (c.standardize)
    data::standardize(ds.X, n_local, ds.d, global_stats(ds.X, n_local, out.n_global, ds.d, grid.column()));
  if (c.standardize_target)
    data::standardize(ds.Y, n_local, ds.d_out,
                      global_stats(ds.Y, n_local, out.n_global, ds.d_out, grid.column()));
  out.d = ds.d;
  out.d_out = ds.d_out;
  out.X = std::move(ds.X);
  out.Y = std::move(ds.Y);
  return out;
}

}  // namespace widemax::train
