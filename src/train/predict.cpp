// `widemax predict`. See predict.hpp. Everything that can be refused (the run directory, the
// columns of --data, --out) is checked before the network is read, on every rank alike, so that
// bad input stops all ranks with the same message; the collectives then follow in one sequence.
#include "widemax/train/predict.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <span>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/system.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/data/dataset.hpp"
#include "widemax/data/npy.hpp"
#include "widemax/run/run.hpp"
#include "widemax/train/load.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

namespace fs = std::filesystem;

namespace {

constexpr EnumName<RowSet> kRowSets[] = {
    {RowSet::kAll, "all"}, {RowSet::kTrain, "train"}, {RowSet::kTest, "test"}};

constexpr const char* kNotARunHint = "give the --out directory of a 'widemax train --save' run";

nlohmann::json read_json_file(const fs::path& path) {
  try {
    return nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    WIDEMAX_FAIL_HINT(kNotARunHint, "--model: ", path.string(), " is not valid JSON (", e.what(),
                      ")");
  }
}

// A key of the run's config.json, of the type the predictor needs.
template <class V>
V config_value(const nlohmann::json& j, const char* key, const fs::path& file) {
  try {
    return j.at(key).get<V>();
  } catch (const nlohmann::json::exception&) {
    WIDEMAX_FAIL_HINT(kNotARunHint, "--model: ", file.string(), " has no valid '", key,
                      "': not the config.json of a 'widemax train' run of this version");
  }
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The header of --data against the training columns: every feature present, the targets all
// present or all absent, no column the training data did not have. Returns whether the targets
// are there. The column order may differ (columns are matched by name).
bool check_columns(const std::vector<std::string>& header, const data::Standardization& cols,
                   const std::string& file, const fs::path& model) {
  const std::set<std::string> have(header.begin(), header.end());
  const std::string trained =
      cat(" (the model was trained on the features ", joined(cols.features), " and the target",
          cols.targets.size() > 1 ? "s " : " ", joined(cols.targets), "; see ",
          (model / "standardization.json").string(), ")");
  std::vector<std::string> missing, extra, targets_here, targets_missing;
  for (const auto& f : cols.features)
    if (!have.count(f)) missing.push_back(f);
  for (const auto& t : cols.targets) (have.count(t) ? targets_here : targets_missing).push_back(t);
  for (const auto& h : header)
    if (std::find(cols.features.begin(), cols.features.end(), h) == cols.features.end() &&
        std::find(cols.targets.begin(), cols.targets.end(), h) == cols.targets.end())
      extra.push_back(h);
  const char* hint = "give a CSV file with the training data's column names (in any order)";
  WIDEMAX_CHECK_HINT(missing.empty(), hint, "--data ", file, ": no feature column",
                     missing.size() > 1 ? "s '" : " '", joined(missing), "'", trained);
  WIDEMAX_CHECK_HINT(extra.empty(), hint, "--data ", file, ": column",
                     extra.size() > 1 ? "s '" : " '", joined(extra),
                     "' did not appear in the training data", trained);
  WIDEMAX_CHECK_HINT(targets_here.empty() || targets_missing.empty(),
                     "give every target column (for the loss) or none (predictions only)",
                     "--data ", file, ": has the target column(s) '", joined(targets_here),
                     "' but not '", joined(targets_missing), "'");
  return !targets_here.empty();
}

// Shortest text that reads back as the same double.
void append_number(std::string& s, double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}

template <class T>
nlohmann::json predict_impl(const PredictPlan& plan, const comm::Grid& grid, int threads,
                            const nlohmann::json& runtime) {
  Stopwatch wall;
  const PredictConfig& c = plan.request;
  const data::Standardization& cols = plan.columns;
  const comm::Communicator& world = grid.world();
  const bool rank0 = world.rank() == 0;
  const bool classes = cols.classes > 0;
  const std::int64_t d = plan.d, d_out = plan.net.d_out, d_y = classes ? 1 : d_out;

  // --out's directory, checked by rank 0 before any work; every rank refuses alike.
  std::string error, hint;
  if (rank0) {
    try {
      ensure_writable_dir(
          plan.csv_out.parent_path().empty() ? fs::path(".") : plan.csv_out.parent_path(), "--out");
    } catch (const Error& e) {
      error = e.what();
      hint = e.hint();
    }
  }
  world.broadcast(error, 0);
  world.broadcast(hint, 0);
  if (!error.empty()) throw Error(error, __FILE__, __LINE__, hint);
  WIDEMAX_CHECK_HINT(plan.net.width >= grid.p_width(), "run predict on fewer ranks", "--model ",
                     c.model, ": the network has ", plan.net.width, " neurons, fewer than the ",
                     grid.p_width(), " ranks that split them");

  // This grid row's rows of --data, its columns put in the training order, then the rows --rows
  // asks for, standardised with the training statistics.
  const bool has_targets = plan.has_targets;
  const std::int64_t n_rows = data::count_csv_rows(c.data);
  WIDEMAX_CHECK(n_rows >= grid.p_data(), "--data ", c.data, " has ", n_rows,
                " rows, fewer than the ", grid.p_data(), " grid rows that split them");
  const model::Range range = model::shard_range(n_rows, grid.p_data(), grid.data_index());
  const data::Dataset ds = data::read_csv(
      c.data, has_targets ? cols.targets : std::vector<std::string>{}, range.begin, range.end);
  std::vector<std::int64_t> column_of(static_cast<std::size_t>(d));
  for (std::int64_t j = 0; j < d; ++j)
    column_of[j] = std::find(ds.feature_names.begin(), ds.feature_names.end(), cols.features[j]) -
                   ds.feature_names.begin();
  DataSpec split;
  split.test_fraction = plan.test_fraction;
  split.data_seed = plan.data_seed;
  LocalData data;
  data.d = d;
  data.d_out = d_out;
  data.classes = cols.classes;
  SampleSet& rows = data.train;
  std::vector<double> y_raw;  // the targets as in the file (labels for --classes)
  for (std::int64_t i = 0; i < ds.n; ++i) {
    const std::int64_t row = range.begin + i;
    const bool test = held_out(split, row);
    if ((c.rows == RowSet::kTrain && test) || (c.rows == RowSet::kTest && !test)) continue;
    rows.ids.push_back(row);
    for (std::int64_t j = 0; j < d; ++j) rows.X.push_back(ds.X[i * d + column_of[j]]);
    if (has_targets)
      y_raw.insert(y_raw.end(), ds.Y.begin() + i * d_y, ds.Y.begin() + (i + 1) * d_y);
  }
  const std::int64_t n_local = rows.size();
  if (cols.standardize) data::standardize(rows.X, n_local, d, cols.x_stats);
  if (!has_targets) {
    rows.Y.assign(static_cast<std::size_t>(n_local * d_out), 0.0);
  } else if (classes) {
    rows.Y = one_hot(y_raw, cols.classes, rows.ids, c.data);
  } else {
    rows.Y = y_raw;
    if (cols.standardize_target) data::standardize(rows.Y, n_local, d_out, cols.y_stats);
  }
  rows.n_global = grid.column().allreduce_sum(n_local);
  WIDEMAX_CHECK_HINT(rows.n_global > 0, "use --rows all, or another --data file", "--rows ",
                     to_string(c.rows), " selects none of the ", n_rows, " rows of ", c.data);
  check_memory(plan.net, false, grid, d, d_out, n_local, 0, threads,
               sample_bytes(n_local, d, d_out, plan.net.precision), "--data " + c.data);

  // The network as trained, sharded over this grid row, and its forward pass over the rows.
  const Execution exec = resolve_execution(plan.net, grid, data, threads, sizeof(T));
  Trainer<T> tr(plan.net, grid, data, threads, exec);
  const Evaluation ev = tr.evaluate_train();
  const std::span<const T> F = tr.output();
  std::vector<double> pred(F.begin(), F.end());
  if (cols.standardize_target) data::unstandardize(pred, n_local, d_out, cols.y_stats);

  // Squared errors in the targets' own units, per target (regression with targets).
  std::vector<double> sse(static_cast<std::size_t>(d_out), 0.0);
  if (has_targets && !classes) {
    for (std::int64_t i = 0; i < n_local; ++i)
      for (std::int64_t k = 0; k < d_out; ++k) {
        const double e = pred[i * d_out + k] - y_raw[i * d_out + k];
        sse[k] += e * e;
      }
    grid.column().allreduce_sum(std::span<double>(sse));
  }

  // The rows as text: the row of --data, then the targets in their units, or for --classes the
  // argmax class and the K outputs (the square-loss fit of the one-hot code).
  std::string text;
  for (std::int64_t i = 0; i < n_local; ++i) {
    text += std::to_string(rows.ids[i]);
    const double* p = pred.data() + i * d_out;
    if (classes) text += "," + std::to_string(std::max_element(p, p + d_out) - p);
    for (std::int64_t k = 0; k < d_out; ++k) {
      text += ',';
      append_number(text, p[k]);
    }
    text += '\n';
  }
  if (grid.p_data() > 1) {
    std::vector<std::string> parts = grid.column().allgather(text);
    text.clear();
    for (const auto& s : parts) text += s;
  }

  nlohmann::json out = {{"predictions", fs::absolute(plan.csv_out).lexically_normal().string()},
                        {"rows", to_string(c.rows)},
                        {"n", rows.n_global},
                        {"has_targets", has_targets}};
  if (has_targets) {
    out["loss"] = ev.loss;
    out["mean_loss"] = ev.mean_loss();
    out["loss_definition"] =
        cols.standardize_target
            ? "1/2 sum ||F - y||^2 over the rows, y standardised with the run's target statistics "
              "(training's loss)"
        : classes ? "1/2 sum ||F - onehot(y)||^2 over the rows (training's loss)"
                  : "1/2 sum ||F - y||^2 over the rows (training's loss)";
    if (classes) {
      out["accuracy"] = ev.accuracy();
    } else {
      nlohmann::json rmse = nlohmann::json::object();
      for (std::int64_t k = 0; k < d_out; ++k)
        rmse[cols.targets[k]] = std::sqrt(sse[k] / static_cast<double>(rows.n_global));
      out["rmse"] = rmse;
    }
  }
  out["model"] = plan.model_record;
  out["width"] = plan.net.width;
  out["precision"] = to_string(plan.net.precision);
  out["grid"] = grid.name();
  out["threads"] = threads;
  out["wall_s"] = wall.seconds();
  out["provenance"] = run::provenance(world.allgather(hostname()), world.size(), runtime,
                                      run::absolute_inputs({{"model", c.model}, {"data", c.data}}));
  if (rank0) {
    std::string header = "row";
    if (classes) {
      header += "," + cols.targets[0];
      for (std::int64_t k = 0; k < d_out; ++k) header += cat(",", cols.targets[0], "_score_", k);
    } else {
      for (const auto& t : cols.targets) header += "," + t;
    }
    write_file_atomic(plan.csv_out, header + "\n" + text);
    write_file_atomic(plan.json_out, out.dump(2) + "\n");
  }
  std::string loss_line;
  if (has_targets)
    loss_line = cat("; loss ", ev.loss, " (mean ", ev.mean_loss(), ")",
                    classes ? cat(", accuracy ", ev.accuracy()) : std::string());
  log::info(cat("widemax predict: ", rows.n_global, " rows (--rows ", to_string(c.rows), ") of ",
                c.data, " -> ", plan.csv_out.string(), loss_line, "; figures in ",
                plan.json_out.string()));
  return out;
}

}  // namespace

RowSet parse_row_set(const std::string& s) {
  return parse_enum(kRowSets, s, "--rows", "row set");
}
std::string to_string(RowSet r) {
  return enum_name(kRowSets, r);
}

void validate(const PredictConfig& c) {
  WIDEMAX_CHECK_HINT(!c.model.empty(), "for example --model runs/train-20260101-120000",
                     "widemax predict needs --model (a 'widemax train --save' run directory)");
  WIDEMAX_CHECK_HINT(!c.data.empty(), "for example --data new_rows.csv",
                     "widemax predict needs --data (a CSV file with the training data's columns)");
  WIDEMAX_CHECK_HINT(!c.out.empty(), "for example --out predictions.csv",
                     "widemax predict needs --out (the predictions CSV)");
  WIDEMAX_CHECK_HINT(fs::path(c.out).extension() == ".csv",
                     "for example --out predictions.csv (the figures go to predictions.json)",
                     "--out '", c.out, "' must end in .csv");
  WIDEMAX_CHECK(c.threads >= 0, "--threads must be >= 0, got ", c.threads);
  WIDEMAX_CHECK(c.block >= 0, "--block must be >= 0, got ", c.block);
}

PredictPlan resolve_predict(const PredictConfig& c) {
  validate(c);
  PredictPlan p;
  p.request = c;
  const fs::path dir(c.model);
  std::error_code ec;
  WIDEMAX_CHECK_HINT(fs::is_directory(dir, ec), kNotARunHint, "--model: no directory '", c.model,
                     "'");
  const fs::path config_file = dir / "config.json";
  WIDEMAX_CHECK_HINT(fs::exists(config_file, ec), kNotARunHint, "--model ", c.model,
                     " is not a widemax run directory (it has no config.json)");
  const nlohmann::json config = read_json_file(config_file);
  const nlohmann::json argv = config.contains("provenance")
                                  ? config["provenance"].value("argv", nlohmann::json::array())
                                  : nlohmann::json::array();
  const std::string command =
      argv.is_array() && argv.size() >= 2 && argv[1].is_string() ? argv[1].get<std::string>() : "";
  WIDEMAX_CHECK_HINT(command.empty() || command == "train", kNotARunHint, "--model ", c.model,
                     " is a run of 'widemax ", command, "', not of 'widemax train'");
  const std::string source = config_value<std::string>(config, "data", config_file);
  WIDEMAX_CHECK_HINT(source != "synthetic", "train on a CSV file (--data FILE --target ...)",
                     "--model ", c.model,
                     " was trained on synthetic data; predict reads CSV files, so it needs a run "
                     "trained on one");

  const fs::path stats_file = dir / "standardization.json";
  WIDEMAX_CHECK_HINT(fs::exists(stats_file, ec),
                     "train it again with this widemax (it writes standardization.json into every "
                     "run on CSV data)",
                     "--model ", c.model,
                     " has no standardization.json (the columns and statistics of its training "
                     "data), so its inputs cannot be scaled as in training");
  p.columns = data::read_standardization(stats_file);

  NetSpec& net = p.net;
  net.activation =
      model::parse_activation(config_value<std::string>(config, "activation", config_file));
  net.scale = model::parse_scale(config_value<std::string>(config, "scale", config_file));
  net.width = config_value<std::int64_t>(config, "width", config_file);
  net.d_out = config_value<std::int64_t>(config, "d_out", config_file);
  net.precision = parse_precision(config_value<std::string>(config, "precision", config_file));
  net.init_from = c.model;
  net.threads = c.threads;
  net.block = c.block;
  net.logit_cache = LogitCacheMode::kOff;  // one forward pass: nothing to reuse
  p.d = config_value<std::int64_t>(config, "d", config_file);
  p.test_fraction = config_value<double>(config, "test_fraction", config_file);
  p.data_seed = config_value<std::uint64_t>(config, "data_seed", config_file);
  const auto targets = config_value<std::vector<std::string>>(config, "target", config_file);
  const auto classes = config_value<std::int64_t>(config, "classes", config_file);
  WIDEMAX_CHECK_HINT(
      targets == p.columns.targets && classes == p.columns.classes &&
          static_cast<std::int64_t>(p.columns.features.size()) == p.d &&
          net.d_out == (classes > 0 ? classes : static_cast<std::int64_t>(targets.size())),
      "the two files must come from the same run; train it again", "--model ", c.model,
      ": standardization.json (features ", joined(p.columns.features), "; targets ",
      joined(p.columns.targets), ") does not match config.json (d ", p.d, ", targets ",
      joined(targets), ", classes ", classes, ")");
  WIDEMAX_CHECK_HINT(
      c.rows != RowSet::kTest || p.test_fraction > 0,
      config.value("test_data", "").empty()
          ? "use --rows all or train"
          : "the run held out a separate file (--test-data): predict it with --rows all",
      "--rows test: the run held out no rows of its data (--test-fraction 0)");

  // The network the run saved at its end (--save), with the shape config.json gives.
  for (const auto& [name, cols] : {std::pair{"W.npy", p.d}, std::pair{"A.npy", net.d_out}}) {
    const fs::path f = dir / name;
    WIDEMAX_CHECK_HINT(
        fs::exists(f, ec), "train with --save, which writes W.npy and A.npy at the end of the run",
        "--model ", c.model, " has no ", name, ": the run was trained without --save");
    const data::NpyInfo info = data::read_npy_info(f);
    WIDEMAX_CHECK_HINT(
        info.shape.size() == 2 && info.shape[0] == net.width && info.shape[1] == cols,
        "the run directory's files must come from one run", "--model: ", f.string(), " has shape (",
        info.shape.size() == 2 ? info.shape[0] : -1, ", ",
        info.shape.size() == 2 ? info.shape[1] : -1, "), but config.json describes (", net.width,
        ", ", cols, ")");
  }

  p.has_targets = check_columns(data::read_csv_header(c.data), p.columns, c.data, c.model);
  p.csv_out = c.out;
  p.json_out = fs::path(c.out).replace_extension(".json");
  if (fs::exists(c.data, ec) && fs::exists(p.csv_out, ec))
    WIDEMAX_CHECK_HINT(!fs::equivalent(c.data, p.csv_out, ec), "choose another --out", "--out ",
                       c.out, " is the --data file");
  const fs::path out_dir =
      p.json_out.parent_path().empty() ? fs::path(".") : p.json_out.parent_path();
  if (fs::exists(out_dir, ec) && fs::equivalent(out_dir, dir, ec))
    for (const char* own : {"config.json", "summary.json", "standardization.json"})
      WIDEMAX_CHECK_HINT(p.json_out.filename() != own, "choose another --out", "--out ", c.out,
                         ": its figures would overwrite the run's ", own);
  p.model_record = {{"run_dir", fs::absolute(dir).lexically_normal().string()},
                    {"run_id", config.value("run_id", "")}};
  if (config.contains("provenance")) {
    p.model_record["widemax_version"] = config["provenance"].value("widemax_version", "");
    p.model_record["git_commit"] = config["provenance"].value("git_commit", "");
  }
  return p;
}

nlohmann::json run_predict(const PredictPlan& plan, const comm::Grid& grid, int threads,
                           const nlohmann::json& runtime) {
  if (plan.net.precision == Precision::kFp32)
    return predict_impl<float>(plan, grid, threads, runtime);
  return predict_impl<double>(plan, grid, threads, runtime);
}

}  // namespace widemax::train
