// Option parsing and validation of `widemax train`: defaults, INI files where the command line
// wins, counts such as 2^20, and clear refusals naming the option.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "widemax/cli/commands.hpp"
#include "widemax/core/error.hpp"

using widemax::cli::parse_train_args;

namespace {
std::string error_of(const std::vector<std::string>& args) {
  std::string help;
  try {
    parse_train_args(args, help);
  } catch (const widemax::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(TrainArgs, ParsesWidthForms) {
  std::string help;
  EXPECT_EQ(parse_train_args({"--width", "2^20"}, help)->net.width, 1 << 20);
  EXPECT_EQ(parse_train_args({"--width", "1e6"}, help)->net.width, 1000000);
  EXPECT_EQ(parse_train_args({"--width", "65536"}, help)->net.width, 65536);
}

TEST(TrainArgs, HelpListsEveryOption) {
  std::string help;
  EXPECT_FALSE(parse_train_args({"--help"}, help).has_value());
  for (const char* opt :
       {"--activation", "--scale",       "--init",      "--sigma", "--width",     "--d-out",
        "--lr",         "--steps",       "--precision", "--seed",  "--log-every", "--out",
        "--config",     "--threads",     "--block",     "--data",  "--n",         "--d",
        "--target",     "--standardize", "--train-a",   "--save",  "--init-from", "--grid",
        "--labels",     "--quiet"})
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
}

TEST(TrainArgs, ConfigFileAndCommandLineWins) {
  const auto path = std::filesystem::temp_directory_path() / "widemax-test-config.ini";
  {
    std::ofstream f(path);
    f << "width = 512\nsteps = 7\nactivation = relu\n";
  }
  std::string help;
  const auto c = parse_train_args({"--config", path.string(), "--steps", "9"}, help);
  EXPECT_EQ(c->net.width, 512);
  EXPECT_EQ(c->steps, 9);
  EXPECT_EQ(c->net.activation, widemax::model::Activation::kRelu);
  std::filesystem::remove(path);
}

TEST(TrainArgs, RefusalsNameTheOption) {
  EXPECT_NE(error_of({"--activation", "tanh"}).find("--activation"), std::string::npos);
  EXPECT_NE(error_of({"--scale", "cube"}).find("--scale"), std::string::npos);
  EXPECT_NE(error_of({"--activation", "relu", "--scale", "m"}).find("--scale"), std::string::npos);
  EXPECT_NE(error_of({"--width", "0"}).find("--width"), std::string::npos);
  EXPECT_NE(error_of({"--width", "1.5"}).find("--width"), std::string::npos);
  EXPECT_NE(error_of({"--precision", "fp16"}).find("--precision"), std::string::npos);
  EXPECT_NE(error_of({"--lr", "-1"}).find("--lr"), std::string::npos);
  EXPECT_NE(error_of({"--bogus"}).find("bogus"), std::string::npos);
  EXPECT_NE(error_of({"--width"}).find("width"), std::string::npos);
  EXPECT_NE(error_of({"--data", "x.csv"}).find("--target"), std::string::npos);
  EXPECT_NE(error_of({"--config", "/nonexistent/file.ini"}).find("--config"), std::string::npos);
}

TEST(Grid, ParsesAndRefuses) {
  EXPECT_EQ(widemax::train::parse_grid("2x3", 6), std::make_pair(2, 3));
  EXPECT_EQ(widemax::train::parse_grid("1xP", 4), std::make_pair(1, 4));
  EXPECT_THROW(widemax::train::parse_grid("2x2", 3), widemax::Error);
  EXPECT_THROW(widemax::train::parse_grid("2by2", 4), widemax::Error);
  EXPECT_THROW(widemax::train::parse_grid("0x4", 4), widemax::Error);
}

// Every enum's name round-trips, and what config.json records for the defaults is what the
// options' defaults say (the Python report scripts read these names).
TEST(TypedOptions, NamesRoundTrip) {
  namespace train = widemax::train;
  namespace model = widemax::model;
  for (const char* s : {"softmax", "exp", "relu"})
    EXPECT_EQ(model::to_string(model::parse_activation(s)), s);
  for (const char* s : {"gaussian", "symmetric"})
    EXPECT_EQ(model::to_string(model::parse_init(s)), s);
  for (const char* s : {"fp64", "fp32"}) EXPECT_EQ(train::to_string(train::parse_precision(s)), s);
  for (const char* s : {"gd", "momentum", "adam"})
    EXPECT_EQ(train::to_string(train::parse_optimizer(s)), s);
  for (const char* s : {"constant", "cosine", "step"})
    EXPECT_EQ(train::to_string(train::parse_schedule(s)), s);
  for (const char* s : {"auto", "on", "off"})
    EXPECT_EQ(train::to_string(train::parse_logit_cache(s)), s);
  for (const char* s : {"auto", "2x3", "1xP"})
    EXPECT_EQ(train::to_string(train::parse_grid_request(s)), s);
  for (const char* s : {"", "auto", "runs/x"})
    EXPECT_EQ(widemax::run::to_string(widemax::run::parse_resume(s)), s);
  std::string help;
  const auto j = train::to_json(*parse_train_args({}, help));
  EXPECT_EQ(j["activation"], "softmax");
  EXPECT_EQ(j["data"], "synthetic");
  EXPECT_EQ(j["grid"], "1xP");
  EXPECT_EQ(j["logit_cache"], "auto");
  EXPECT_EQ(j["resume"], "");
  const auto r = parse_train_args({"--data", "x.csv", "--target", "y", "--resume", "auto", "--out",
                                   "o", "--optimizer", "adam", "--grid", "auto"},
                                  help);
  EXPECT_EQ(r->data.csv, "x.csv");
  EXPECT_EQ(r->run.resume.mode, widemax::run::Resume::Mode::kAuto);
  EXPECT_EQ(r->net.optimizer.kind, train::OptimizerKind::kAdam);
  EXPECT_TRUE(r->net.grid.automatic);
  EXPECT_NE(error_of({"--optimizer", "sgdm"}).find("--optimizer: unknown optimiser 'sgdm'"),
            std::string::npos);
}
