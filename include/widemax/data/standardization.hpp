// The column layout and standardisation a training run applied to its CSV data, as the run
// directory stores it (RUN/standardization.json), so that `widemax predict` reads new rows in the
// same column order and scales them with the training rows' statistics instead of their own.
// Serial and MPI-free: computing the statistics over the ranks is the loader's (train/load.cpp),
// applying them to a rank's rows is the caller's. Doubles are written in their shortest
// round-trip form, so reading the file back gives the statistics bit for bit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "widemax/data/dataset.hpp"

namespace widemax::data {

struct Standardization {
  std::vector<std::string> features;  // feature columns, in the order the network reads them
  std::vector<std::string> targets;   // --target columns, in the order of the outputs
  std::int64_t classes = 0;           // > 0: the one target is a class label 0..K-1 (one-hot)
  bool standardize = false;           // --standardize: x = (x - x_stats.mean) / x_stats.stddev
  ColumnStats x_stats;                // per feature (empty without --standardize)
  bool standardize_target = false;    // --standardize-target: y = (y - mean) / stddev
  ColumnStats y_stats;                // per target (empty without --standardize-target)
};

// The JSON form (keys: format, features, targets, classes, standardize, feature_mean, feature_std,
// standardize_target, target_mean, target_std).
nlohmann::json to_json(const Standardization& s);
// Reads it back, checking every key: names present and distinct, statistics of the right length,
// finite, with a positive spread. Errors name `source` and the key.
Standardization standardization_from_json(const nlohmann::json& j, const std::string& source);

// The file: written through a temporary name and a rename; read with the checks above (a missing,
// unreadable or malformed file is an Error naming it).
void write_standardization(const std::filesystem::path& path, const Standardization& s);
Standardization read_standardization(const std::filesystem::path& path);

// The inverse of standardize(): M[:, c] = M[:, c] * stddev[c] + mean[c].
void unstandardize(std::vector<double>& M, std::int64_t n, std::int64_t cols, const ColumnStats& s);

}  // namespace widemax::data
