// `widemax predict`: option parsing into train::PredictConfig, then the command (the plan is
// resolved against the run directory before the grid is made). Option names are documented here
// once; docs/cli.md is generated from them. Not here: the predictions themselves
// (train/predict.hpp).
#include <boost/program_options.hpp>
#include <iostream>
#include <optional>
#include <utility>

#include "options.hpp"
#include "widemax/cli/commands.hpp"
#include "widemax/cli/runtime_info.hpp"
#include "widemax/comm/grid.hpp"
#include "widemax/train/predict.hpp"

namespace po = boost::program_options;

namespace widemax::cli {

namespace {

po::options_description predict_options(train::PredictConfig& c) {
  po::options_description io("Input and output");
  io.add_options()("model", po::value(&c.model),
                   "run directory of 'widemax train --save' on a CSV file: its W.npy, A.npy, "
                   "config.json and standardization.json")(
      "data", po::value(&c.data),
      "CSV file with the training data's feature columns (by name, in any order), and either "
      "all of its target columns (then the loss is reported) or none")(
      "out", po::value(&c.out),
      "predictions CSV, ending in .csv: a column 'row' (the 0-based data row of --data), then "
      "the targets in their own units (un-standardised); with --classes the predicted class "
      "(argmax) and the K outputs TARGET_score_k. The figures (n, loss, mean_loss, accuracy or "
      "rmse, provenance) go to the .json of the same name")(
      "rows", typed_value(c.rows, train::parse_row_set),
      "all | train | test: the rows of --data to predict; train and test use the run's held-out "
      "split (the hash of its --data-seed and the row, --test-fraction), which gives the run's "
      "own training and held-out rows when --data is its training CSV");

  po::options_description run("Execution");
  run.add_options()("grid", po::value(&c.grid)->default_value(c.grid),
                    "process grid PdxPw: Pd rows split the rows of --data, Pw columns split the "
                    "neurons (any rank count, whatever the run was trained on)")(
      "threads", po::value(&c.threads)->default_value(c.threads),
      "OpenMP/BLAS threads per rank (0: OMP_NUM_THREADS, else CPUs / ranks on the node)")(
      "block", po::value(&c.block)->default_value(c.block),
      "neurons per block of the streaming pass (0: automatic, logits of a block ~1 MiB)")(
      "quiet", "no placement report")("help,h", "this help");

  po::options_description all;
  all.add(io).add(run);
  return all;
}

}  // namespace

std::optional<train::PredictConfig> parse_predict_args(const std::vector<std::string>& args,
                                                       std::string& help_out) {
  train::PredictConfig c;
  const po::options_description desc = predict_options(c);
  po::variables_map vm;
  if (!parse_options(
          args, desc, "predict",
          "widemax predict: the outputs of a network trained by 'widemax train --save' on a CSV "
          "file, for\nthe rows of another (or the same) CSV file. The features are standardised "
          "with the training\nrows' statistics (RUN/standardization.json), and the predictions "
          "are in the targets' own units.\nWhen --data has the target columns, the loss is "
          "reported as training defines it\n(1/2 sum ||F - y||^2, on standardised targets when "
          "the run standardised them) with its mean; with\nthe training CSV and --rows train it "
          "is the run's final_loss. The neurons are sharded over the\nranks as in training, on "
          "any rank count.\n\nUsage: mpirun --bind-to none -np P widemax predict --model RUN "
          "--data FILE.csv\n       --out PRED.csv [options]",
          vm, help_out))
    return std::nullopt;
  c.progress = !vm.count("quiet");
  train::validate(c);
  return c;
}

int run_predict(const std::vector<std::string>& args) {
  std::string help;
  const comm::Communicator world(MPI_COMM_WORLD);
  // Parsing and resolving read only the arguments and the run directory's small files, alike on
  // every rank: one agreement makes any refusal an all-ranks error (printed once, no abort).
  std::optional<train::PredictConfig> c;
  std::optional<train::PredictPlan> resolved;
  std::pair<int, int> shape;
  comm::agree_on_errors(world, [&] {
    c = parse_predict_args(args, help);
    if (!c) return;
    resolved = train::resolve_predict(*c);
    shape = train::parse_grid(c->grid, world.size());
  });
  if (!c) {
    if (world.rank() == 0) std::cout << help;
    return 0;
  }
  const train::PredictPlan& plan = *resolved;
  const auto [p_data, p_width] = shape;
  const comm::Grid grid(MPI_COMM_WORLD, p_data, p_width);
  const int threads = resolve_threads(c->threads, world);
  const nlohmann::json runtime = describe_runtime(world, threads, c->progress);
  train::run_predict(plan, grid, threads, runtime);
  return 0;
}

}  // namespace widemax::cli
