// Sub-commands of the `widemax` executable. Each runs after MPI_Init and returns the exit status;
// errors are thrown as widemax::Error and handled (printed, MPI_Abort) by apps/main.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "widemax/diffusion/run.hpp"
#include "widemax/polarize/run.hpp"
#include "widemax/train/config.hpp"
#include "widemax/train/predict.hpp"

namespace widemax::cli {

// Parses `widemax train` (or `widemax ntk`, which takes the same data and model options)
// arguments; argv excludes the program and sub-command names. Returns std::nullopt when --help was
// asked for (the help text is in `help_out`).
std::optional<train::Config> parse_train_args(const std::vector<std::string>& args,
                                              std::string& help_out,
                                              const std::string& command = "train");

int run_train(const std::vector<std::string>& args);
int run_ntk(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);

// `widemax polarize` (docs/design.md §1.2): parses its arguments (nullopt after --help, text in
// help_out).
std::optional<polarize::Config> parse_polarize_args(const std::vector<std::string>& args,
                                                    std::string& help_out);
int run_polarize(const std::vector<std::string>& args);
// `widemax diffusion` (docs/design.md §1.3). parse_diffusion_args returns std::nullopt after
// --help.
std::optional<diffusion::Config> parse_diffusion_args(const std::vector<std::string>& args,
                                                      std::string& help_out);
int run_diffusion(const std::vector<std::string>& args);
// `widemax predict` (train/predict.hpp). parse_predict_args returns std::nullopt after --help.
std::optional<train::PredictConfig> parse_predict_args(const std::vector<std::string>& args,
                                                       std::string& help_out);
int run_predict(const std::vector<std::string>& args);
// `widemax count`: counts as --width reads them, for the job scripts (src/cli/count_cli.cpp).
int run_count(const std::vector<std::string>& args);

}  // namespace widemax::cli
