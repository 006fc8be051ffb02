// RUN/standardization.json: writing, reading with checks, and undoing the target scaling. See
// standardization.hpp.
#include "widemax/data/standardization.hpp"

#include <cmath>
#include <set>

#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"

namespace widemax::data {

namespace {

constexpr const char* kFormat = "widemax standardization 1";

std::vector<std::string> names_at(const nlohmann::json& j, const char* key,
                                  const std::string& source) {
  WIDEMAX_CHECK(j.contains(key) && j[key].is_array(), source, ": '", key,
                "' is missing or not a list of column names");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& v : j[key]) {
    WIDEMAX_CHECK(v.is_string() && !v.get<std::string>().empty(), source, ": '", key,
                  "' holds an entry that is not a column name");
    WIDEMAX_CHECK(seen.insert(v.get<std::string>()).second, source, ": '", key, "' names '",
                  v.get<std::string>(), "' twice");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::vector<double> numbers_at(const nlohmann::json& j, const char* key, std::size_t expected,
                               bool positive, const std::string& source) {
  WIDEMAX_CHECK(j.contains(key) && j[key].is_array() && j[key].size() == expected, source, ": '",
                key, "' must be a list of ", expected, " numbers (one per column)");
  std::vector<double> out;
  for (const auto& v : j[key]) {
    WIDEMAX_CHECK(v.is_number(), source, ": '", key, "' holds an entry that is not a number");
    const double x = v.get<double>();
    WIDEMAX_CHECK(std::isfinite(x) && (!positive || x > 0), source, ": '", key, "' holds ", x,
                  positive ? ", not a positive finite spread" : ", not a finite number");
    out.push_back(x);
  }
  return out;
}

bool flag_at(const nlohmann::json& j, const char* key, const std::string& source) {
  WIDEMAX_CHECK(j.contains(key) && j[key].is_boolean(), source, ": '", key,
                "' is missing or not true/false");
  return j[key].get<bool>();
}

}  // namespace

nlohmann::json to_json(const Standardization& s) {
  nlohmann::json j = {{"format", kFormat},
                      {"features", s.features},
                      {"targets", s.targets},
                      {"classes", s.classes},
                      {"standardize", s.standardize},
                      {"standardize_target", s.standardize_target},
                      {"note",
                       "x_std = (x - feature_mean) / feature_std per feature; a prediction in the "
                       "targets' units is F * target_std + target_mean"}};
  if (s.standardize) {
    j["feature_mean"] = s.x_stats.mean;
    j["feature_std"] = s.x_stats.stddev;
  }
  if (s.standardize_target) {
    j["target_mean"] = s.y_stats.mean;
    j["target_std"] = s.y_stats.stddev;
  }
  return j;
}

Standardization standardization_from_json(const nlohmann::json& j, const std::string& source) {
  WIDEMAX_CHECK(j.is_object() && j.value("format", "") == kFormat, source,
                ": not a widemax standardization file (no \"format\": \"", kFormat, "\")");
  Standardization s;
  s.features = names_at(j, "features", source);
  s.targets = names_at(j, "targets", source);
  WIDEMAX_CHECK(!s.features.empty() && !s.targets.empty(), source,
                ": 'features' and 'targets' must each name at least one column");
  for (const auto& t : s.targets)
    for (const auto& f : s.features)
      WIDEMAX_CHECK(t != f, source, ": '", t, "' is both a feature and a target");
  WIDEMAX_CHECK(j.contains("classes") && j["classes"].is_number_integer() &&
                    j["classes"].get<std::int64_t>() >= 0,
                source, ": 'classes' must be a whole number >= 0");
  s.classes = j["classes"].get<std::int64_t>();
  WIDEMAX_CHECK(s.classes == 0 || (s.classes >= 2 && s.targets.size() == 1), source, ": 'classes' ",
                s.classes, " needs exactly one target column and 2 or more classes");
  s.standardize = flag_at(j, "standardize", source);
  s.standardize_target = flag_at(j, "standardize_target", source);
  WIDEMAX_CHECK(!(s.classes > 0 && s.standardize_target), source,
                ": class labels (classes > 0) are never standardised");
  if (s.standardize) {
    s.x_stats.mean = numbers_at(j, "feature_mean", s.features.size(), false, source);
    s.x_stats.stddev = numbers_at(j, "feature_std", s.features.size(), true, source);
  }
  if (s.standardize_target) {
    s.y_stats.mean = numbers_at(j, "target_mean", s.targets.size(), false, source);
    s.y_stats.stddev = numbers_at(j, "target_std", s.targets.size(), true, source);
  }
  return s;
}

void write_standardization(const std::filesystem::path& path, const Standardization& s) {
  write_file_atomic(path, to_json(s).dump(2) + "\n");
}

Standardization read_standardization(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    WIDEMAX_FAIL(path.string(), ": not valid JSON (", e.what(), ")");
  }
  return standardization_from_json(j, path.string());
}

void unstandardize(std::vector<double>& M, std::int64_t n, std::int64_t cols,
                   const ColumnStats& s) {
  WIDEMAX_CHECK(n >= 0 && cols >= 0 && static_cast<std::int64_t>(M.size()) == n * cols,
                "unstandardize: a matrix of ", M.size(), " values is not (", n, ", ", cols, ")");
  WIDEMAX_CHECK(static_cast<std::int64_t>(s.mean.size()) == cols &&
                    static_cast<std::int64_t>(s.stddev.size()) == cols,
                "unstandardize: statistics for ", s.mean.size(), " columns, matrix has ", cols);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < cols; ++c) {
      double& v = M[i * cols + c];
      v = v * s.stddev[c] + s.mean[c];
    }
}

}  // namespace widemax::data
