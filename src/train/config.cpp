// Validation, names and JSON form of the training request. See config.hpp.
#include "widemax/train/config.hpp"

#include <cmath>

#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/run/run.hpp"

namespace widemax::train {

namespace {
constexpr EnumName<Precision> kPrecisions[] = {{Precision::kFp64, "fp64"},
                                               {Precision::kFp32, "fp32"}};
constexpr EnumName<LogitCacheMode> kLogitCache[] = {
    {LogitCacheMode::kAuto, "auto"}, {LogitCacheMode::kOn, "on"}, {LogitCacheMode::kOff, "off"}};
}  // namespace

Precision parse_precision(const std::string& s) {
  return parse_enum(kPrecisions, s, "--precision", "precision");
}
std::string to_string(Precision p) {
  return enum_name(kPrecisions, p);
}
LogitCacheMode parse_logit_cache(const std::string& s) {
  return parse_enum(kLogitCache, s, "--logit-cache", "value");
}
std::string to_string(LogitCacheMode m) {
  return enum_name(kLogitCache, m);
}

GridRequest parse_grid_request(const std::string& text) {
  GridRequest g;
  g.automatic = text == "auto";
  if (!g.automatic) g.text = text;
  return g;
}
std::string to_string(const GridRequest& g) {
  return g.automatic ? "auto" : g.text;
}

void validate(const NetSpec& c) {
  WIDEMAX_CHECK_HINT(!(c.scale_given && c.activation != model::Activation::kSoftmax),
                     "exp and relu always use c = m^{-1/2} (docs/design.md §1.1); drop --scale",
                     "--scale applies to --activation softmax only, not '",
                     model::to_string(c.activation), "'");
  WIDEMAX_CHECK(std::isfinite(c.sigma) && c.sigma > 0, "--sigma must be positive, got ", c.sigma);
  WIDEMAX_CHECK(c.width >= 1, "--width must be at least 1, got ", c.width);
  WIDEMAX_CHECK(c.d_out >= 1, "--d-out must be at least 1, got ", c.d_out);
  WIDEMAX_CHECK(std::isfinite(c.lr.value) && c.lr.value >= 0,
                "--lr must be a positive number, got ", c.lr.value);
  WIDEMAX_CHECK(c.threads >= 0, "--threads must be >= 0, got ", c.threads);
  WIDEMAX_CHECK(c.block >= 0, "--block must be >= 0, got ", c.block);
  WIDEMAX_CHECK(c.lr.auto_c > 0, "--lr-auto-c must be positive, got ", c.lr.auto_c);
  validate(c.optimizer);
  validate(c.schedule);
  WIDEMAX_CHECK_HINT(
      c.schedule.kind != ScheduleKind::kCosine || !c.lr.given() || c.schedule.lr_min <= c.lr.value,
      "--lr-min is the rate the cosine schedule ends at; give one below --lr", "--lr-min ",
      c.schedule.lr_min, " is above --lr ", c.lr.value,
      ": --lr-schedule cosine would raise the rate instead of lowering it");
  WIDEMAX_CHECK(c.grid.network.latency_s > 0 && c.grid.network.bandwidth_Bps > 0,
                "--net-latency and --net-bandwidth must be positive");
}

void validate(const DataSpec& c) {
  WIDEMAX_CHECK(c.test_fraction >= 0 && c.test_fraction < 1,
                "--test-fraction must be in [0, 1), got ", c.test_fraction);
  WIDEMAX_CHECK(c.test_data.empty() || c.test_fraction == 0,
                "give either --test-fraction or --test-data, not both");
  WIDEMAX_CHECK(c.test_data.empty() || c.is_csv(),
                "--test-data needs CSV training data (--data FILE)");
  WIDEMAX_CHECK(c.n_test >= 0, "--n-test must be >= 0, got ", c.n_test);
  WIDEMAX_CHECK_HINT(c.n_test == 0 || !c.is_csv(),
                     "hold out CSV rows with --test-fraction, or give them as --test-data",
                     "--n-test draws held-out rows of the synthetic data; it does not apply to "
                     "--data ",
                     c.csv);
  WIDEMAX_CHECK(c.n_test == 0 || (c.test_fraction == 0 && c.test_data.empty()),
                "give one of --n-test, --test-fraction and --test-data, not several");
  WIDEMAX_CHECK(c.classes >= 0, "--classes must be >= 0, got ", c.classes);
  WIDEMAX_CHECK(c.classes != 1, "--classes 1 is not a classification; use 2 or more");
  WIDEMAX_CHECK(
      c.classes == 0 || (c.is_csv() && c.target.size() == 1),
      "--classes needs CSV data with exactly one --target column holding the class label");
  WIDEMAX_CHECK(!(c.classes > 0 && c.standardize_target),
                "--standardize-target cannot be used with --classes (one-hot targets)");
  if (c.is_csv()) {
    WIDEMAX_CHECK_HINT(!c.target.empty(), "for example --target progression", "--data ", c.csv,
                       ": a CSV file needs --target naming its target column(s)");
  } else {
    WIDEMAX_CHECK(c.n >= 1, "--n must be at least 1, got ", c.n);
    WIDEMAX_CHECK(c.d >= 1, "--d must be at least 1, got ", c.d);
    WIDEMAX_CHECK(c.target.empty(), "--target applies to CSV data, not --data synthetic");
  }
}

void validate(const Config& c) {
  validate(c.net);
  WIDEMAX_CHECK(c.steps >= 0, "--steps must be >= 0, got ", c.steps);
  WIDEMAX_CHECK(c.log_every >= 0, "--log-every must be >= 0, got ", c.log_every);
  WIDEMAX_CHECK(c.ntk_every >= 0, "--ntk-every must be >= 0, got ", c.ntk_every);
  WIDEMAX_CHECK(c.ntk_samples >= 0, "--ntk-samples must be >= 0, got ", c.ntk_samples);
  WIDEMAX_CHECK_HINT(
      std::isfinite(c.perturb) && c.perturb >= 0,
      "give the radius ||Delta_r|| of the perturbation, a finite number >= 0 (0: off)",
      "--perturb must be a finite number >= 0, got ", c.perturb);
  run::validate(c.run);
  WIDEMAX_CHECK(c.batch >= 0, "--batch must be >= 0 (0: full batch), got ", c.batch);
  validate(c.data);
}

std::pair<int, int> parse_grid(const std::string& text, int world_size) {
  WIDEMAX_ASSERT(text != "auto", "--grid auto is resolved by choose_grid(), not parse_grid()");
  const auto x = text.find('x');
  const char* hint = "write --grid PdxPw, for example 2x4, with Pd * Pw = number of ranks";
  // Every rank parses the same text against the same world size: the refusals are on all ranks.
  WIDEMAX_CHECK_ALL_HINT(x != std::string::npos, hint, "--grid: '", text,
                         "' is not of the form PdxPw");
  auto part = [&](const std::string& s) -> int {
    if (s == "P") return world_size;
    try {
      std::size_t used = 0;
      const int v = std::stoi(s, &used);
      if (used == s.size() && v >= 1) return v;
    } catch (...) {
    }
    WIDEMAX_FAIL_ALL_HINT(hint, "--grid: '", text, "': '", s, "' is not a positive whole number");
  };
  const int pd = part(text.substr(0, x));
  const int pw = part(text.substr(x + 1));
  WIDEMAX_CHECK_ALL_HINT(pd * pw == world_size, hint, "--grid ", text, " is ", pd, "x", pw, " = ",
                         pd * pw, " ranks, but ", world_size, " MPI ranks were started");
  return {pd, pw};
}

nlohmann::json input_paths(const Config& c) {
  return run::absolute_inputs(
      {{"data", c.data.csv},
       {"test_data", c.data.test_data},
       {"init_from", c.net.init_from},
       {"config", c.config_file},
       {"resume", c.run.resume.mode == run::Resume::Mode::kPath ? c.run.resume.path : ""}});
}

nlohmann::json to_json(const NetSpec& c) {
  return {{"activation", model::to_string(c.activation)},
          {"scale", model::to_string(c.scale)},
          {"init", model::to_string(c.init)},
          {"sigma", c.sigma},
          {"width", c.width},
          {"d_out", c.d_out},
          {"train_a", c.train_a},
          {"init_from", c.init_from},
          {"lr", c.lr.value},
          {"lr_auto", c.lr.automatic},
          {"lr_auto_c", c.lr.auto_c},
          {"precision", to_string(c.precision)},
          {"seed", c.seed},
          {"seed_scope", model::to_string(c.seed_scope)},
          {"optimizer", to_string(c.optimizer.kind)},
          {"momentum", c.optimizer.momentum},
          {"beta1", c.optimizer.beta1},
          {"beta2", c.optimizer.beta2},
          {"eps", c.optimizer.eps},
          {"lr_schedule", to_string(c.schedule.kind)},
          {"lr_min", c.schedule.lr_min},
          {"lr_step_every", c.schedule.step_every},
          {"lr_gamma", c.schedule.gamma},
          {"grid", to_string(c.grid)},
          {"threads", c.threads},
          {"block", c.block},
          {"logit_cache", to_string(c.logit_cache)}};
}

nlohmann::json to_json(const DataSpec& c) {
  return {{"data", c.source()},
          {"n", c.n},
          {"d", c.d},
          {"labels", data::to_string(c.labels)},
          {"data_seed", c.data_seed},
          {"target", c.target},
          {"standardize", c.standardize},
          {"standardize_target", c.standardize_target},
          {"test_fraction", c.test_fraction},
          {"test_data", c.test_data},
          {"n_test", c.n_test},
          {"classes", c.classes}};
}

nlohmann::json to_json(const Config& c) {
  nlohmann::json j = to_json(c.net);
  j.update(to_json(c.data));
  j.update(run::to_json(c.run));
  j.update(nlohmann::json{{"steps", c.steps},
                          {"log_every", c.log_every},
                          {"batch", c.batch},
                          {"ntk_every", c.ntk_every},
                          {"ntk_samples", c.ntk_samples}});
  return j;
}

}  // namespace widemax::train
