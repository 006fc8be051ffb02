// `widemax predict`: the outputs of a trained network (a `widemax train --save` run directory) on
// the rows of a CSV file, in the targets' own units, and, when the file holds the targets, the
// loss with the definition and units of training's. The request (PredictConfig, as parsed) is
// resolved once against the run directory into a PredictPlan: the network as it was trained (from
// config.json), its columns and standardisation (standardization.json) and the output paths.
// The rows are sharded over grid rows and the neurons over grid columns as in training, on any
// rank count; the forward pass is the trainer's (Trainer::evaluate_train and output), not a copy.
// Not here: option parsing (cli/), training, mini-batches, synthetic data, checkpoints (the run's
// final W.npy/A.npy are used, never a checkpoint's).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "widemax/comm/grid.hpp"
#include "widemax/data/standardization.hpp"
#include "widemax/train/config.hpp"

namespace widemax::train {

// --rows: which rows of --data to predict. train and test use the run's held-out split (the hash
// of --data-seed and the row, --test-fraction), which picks the run's own rows when --data is the
// training CSV.
enum class RowSet { kAll, kTrain, kTest };
RowSet parse_row_set(const std::string& s);  // errors name --rows
std::string to_string(RowSet r);

struct PredictConfig {
  std::string model;  // the run directory
  std::string data;   // CSV file
  std::string out;    // predictions CSV; the loss goes to the .json of the same name
  RowSet rows = RowSet::kAll;
  std::string grid = "1xP";  // PdxPw
  int threads = 0;
  std::int64_t block = 0;
  bool progress = true;
};
// Checks what needs no file (Error naming the option).
void validate(const PredictConfig& c);

struct PredictPlan {
  PredictConfig request;
  NetSpec net;  // as trained, with init_from = the run directory (its W.npy and A.npy)
  std::int64_t d = 0;
  data::Standardization columns;  // the training data's columns and statistics
  bool has_targets = false;       // --data has the target columns (then the loss is reported)
  double test_fraction = 0;       // the run's split, for --rows
  std::uint64_t data_seed = 0;
  std::filesystem::path csv_out, json_out;
  nlohmann::json model_record;  // the run's id, version and commit, for the predictions' JSON
};
// Reads RUN/config.json and RUN/standardization.json and checks that RUN/W.npy and RUN/A.npy
// exist with the network's shape, and the header of --data against the training columns.
// Refuses, naming the file and what is wrong: a directory that is not a `widemax train` run, a run
// on synthetic data, a run without --save, a --data without a training feature, with a column the
// training data did not have or with only some of the targets, an --out that would overwrite
// --data or the run's own files. Local: every rank reads the same files and refuses alike.
PredictPlan resolve_predict(const PredictConfig& c);

// The figures of a prediction (the JSON beside the CSV, also returned for tests): n, and when the
// file has the targets, loss (1/2 sum ||F - y||^2 over the rows, y standardised when the run
// standardised its targets, as training's loss), mean_loss, and accuracy (--classes) or the rmse
// per target in the targets' own units.
// Collective over the grid, in this order on every rank: rank 0's verdict on --out (broadcast),
// the selected row count (SUM over the grid column), the memory and logit-cache agreement of
// check_memory and resolve_execution, the forward pass (the merge all-reduce over each grid row)
// and the loss (SUM over the column when rows are split), one SUM of the squared errors
// (regression with targets), the formatted rows (all-gather over the column when rows are split)
// and the hosts (all-gather over the world). Rank 0 writes both files, each through a temporary
// name and a rename.
nlohmann::json run_predict(const PredictPlan& plan, const comm::Grid& grid, int threads,
                           const nlohmann::json& runtime);

}  // namespace widemax::train
