// Validation and JSON form of the training configuration. See config.hpp.
#include "widemax/train/config.hpp"

#include <cmath>

#include "widemax/core/error.hpp"
#include "widemax/model/model.hpp"

namespace widemax::train {

void validate(const Config& c) {
  const auto act = model::parse_activation(c.activation);
  model::parse_scale(c.scale);
  WIDEMAX_CHECK_HINT(!(c.scale_given && act != model::Activation::kSoftmax),
                     "exp and relu always use c = m^{-1/2} (DESIGN 1.1); drop --scale",
                     "--scale applies to --activation softmax only, not '", c.activation, "'");
  WIDEMAX_CHECK_HINT(c.init == "gaussian" || c.init == "symmetric", "choose gaussian or symmetric",
                     "--init: unknown initialisation '", c.init, "'");
  WIDEMAX_CHECK(std::isfinite(c.sigma) && c.sigma > 0, "--sigma must be positive, got ", c.sigma);
  WIDEMAX_CHECK(c.width >= 1, "--width must be at least 1, got ", c.width);
  WIDEMAX_CHECK(c.d_out >= 1, "--d-out must be at least 1, got ", c.d_out);
  WIDEMAX_CHECK(std::isfinite(c.lr) && c.lr >= 0, "--lr must be a positive number, got ", c.lr);
  WIDEMAX_CHECK(c.steps >= 0, "--steps must be >= 0, got ", c.steps);
  WIDEMAX_CHECK(c.log_every >= 0, "--log-every must be >= 0, got ", c.log_every);
  WIDEMAX_CHECK_HINT(c.precision == "fp64" || c.precision == "fp32", "choose fp64 or fp32",
                     "--precision: unknown precision '", c.precision, "'");
  WIDEMAX_CHECK_HINT(c.labels == "teacher" || c.labels == "random", "choose teacher or random",
                     "--labels: unknown label kind '", c.labels, "'");
  WIDEMAX_CHECK(c.threads >= 0, "--threads must be >= 0, got ", c.threads);
  WIDEMAX_CHECK(c.block >= 0, "--block must be >= 0, got ", c.block);
  WIDEMAX_CHECK_HINT(c.logit_cache == "auto" || c.logit_cache == "on" || c.logit_cache == "off",
                     "choose auto, on or off", "--logit-cache: unknown value '", c.logit_cache,
                     "'");
  WIDEMAX_CHECK(c.ntk_every >= 0, "--ntk-every must be >= 0, got ", c.ntk_every);
  WIDEMAX_CHECK(c.ntk_samples >= 0, "--ntk-samples must be >= 0, got ", c.ntk_samples);
  WIDEMAX_CHECK(c.lr_auto_c > 0, "--lr-auto-c must be positive, got ", c.lr_auto_c);
  WIDEMAX_CHECK(c.checkpoint_every >= 0, "--checkpoint-every must be >= 0, got ",
                c.checkpoint_every);
  WIDEMAX_CHECK(c.keep_checkpoints >= 1, "--keep-checkpoints must be >= 1, got ",
                c.keep_checkpoints);
  WIDEMAX_CHECK_HINT(c.resume != "auto" || !c.out.empty(),
                     "give the run directory to continue with --out DIR",
                     "--resume auto continues the run in --out, but no --out was given");
  validate(c.optimizer);
  validate(c.schedule);
  WIDEMAX_CHECK(c.batch >= 0, "--batch must be >= 0 (0: full batch), got ", c.batch);
  WIDEMAX_CHECK(c.test_fraction >= 0 && c.test_fraction < 1,
                "--test-fraction must be in [0, 1), got ", c.test_fraction);
  WIDEMAX_CHECK(c.test_data.empty() || c.test_fraction == 0,
                "give either --test-fraction or --test-data, not both");
  WIDEMAX_CHECK(c.test_data.empty() || c.is_csv(),
                "--test-data needs CSV training data (--data FILE)");
  WIDEMAX_CHECK(c.classes >= 0, "--classes must be >= 0, got ", c.classes);
  WIDEMAX_CHECK(c.classes != 1, "--classes 1 is not a classification; use 2 or more");
  WIDEMAX_CHECK(
      c.classes == 0 || (c.is_csv() && c.target.size() == 1),
      "--classes needs CSV data with exactly one --target column holding the class label");
  WIDEMAX_CHECK(!(c.classes > 0 && c.standardize_target),
                "--standardize-target cannot be used with --classes (one-hot targets)");
  WIDEMAX_CHECK(c.network.latency_s > 0 && c.network.bandwidth_Bps > 0,
                "--net-latency and --net-bandwidth must be positive");
  if (c.is_csv()) {
    WIDEMAX_CHECK_HINT(!c.target.empty(), "for example --target progression", "--data ", c.data,
                       ": a CSV file needs --target naming its target column(s)");
  } else {
    WIDEMAX_CHECK(c.n >= 1, "--n must be at least 1, got ", c.n);
    WIDEMAX_CHECK(c.d >= 1, "--d must be at least 1, got ", c.d);
    WIDEMAX_CHECK(c.target.empty(), "--target applies to CSV data, not --data synthetic");
  }
}

std::pair<int, int> parse_grid(const std::string& text, int world_size) {
  WIDEMAX_CHECK(text != "auto", "--grid auto is resolved by choose_grid(), not parse_grid()");
  const auto x = text.find('x');
  const char* hint = "write --grid PdxPw, for example 2x4, with Pd * Pw = number of ranks";
  WIDEMAX_CHECK_HINT(x != std::string::npos, hint, "--grid: '", text, "' is not of the form PdxPw");
  auto part = [&](const std::string& s) -> int {
    if (s == "P") return world_size;
    try {
      std::size_t used = 0;
      const int v = std::stoi(s, &used);
      if (used == s.size() && v >= 1) return v;
    } catch (...) {
    }
    WIDEMAX_FAIL_HINT(hint, "--grid: '", text, "': '", s, "' is not a positive whole number");
  };
  const int pd = part(text.substr(0, x));
  const int pw = part(text.substr(x + 1));
  WIDEMAX_CHECK_HINT(pd * pw == world_size, hint, "--grid ", text, " is ", pd, "x", pw, " = ",
                     pd * pw, " ranks, but ", world_size, " MPI ranks were started");
  return {pd, pw};
}

nlohmann::json to_json(const Config& c) {
  return {{"activation", c.activation},
          {"scale", c.scale},
          {"init", c.init},
          {"sigma", c.sigma},
          {"width", c.width},
          {"d_out", c.d_out},
          {"train_a", c.train_a},
          {"init_from", c.init_from},
          {"lr", c.lr},
          {"lr_auto", c.lr_auto},
          {"lr_auto_c", c.lr_auto_c},
          {"ntk_every", c.ntk_every},
          {"ntk_samples", c.ntk_samples},
          {"steps", c.steps},
          {"precision", c.precision},
          {"seed", c.seed},
          {"log_every", c.log_every},
          {"data", c.data},
          {"n", c.n},
          {"d", c.d},
          {"labels", c.labels},
          {"data_seed", c.data_seed},
          {"target", c.target},
          {"standardize", c.standardize},
          {"standardize_target", c.standardize_target},
          {"batch", c.batch},
          {"optimizer", c.optimizer.kind},
          {"momentum", c.optimizer.momentum},
          {"beta1", c.optimizer.beta1},
          {"beta2", c.optimizer.beta2},
          {"eps", c.optimizer.eps},
          {"lr_schedule", c.schedule.kind},
          {"lr_min", c.schedule.lr_min},
          {"lr_step_every", c.schedule.step_every},
          {"lr_gamma", c.schedule.gamma},
          {"test_fraction", c.test_fraction},
          {"test_data", c.test_data},
          {"classes", c.classes},
          {"grid", c.grid},
          {"threads", c.threads},
          {"block", c.block},
          {"logit_cache", c.logit_cache},
          {"out", c.out},
          {"save", c.save},
          {"checkpoint_every", c.checkpoint_every},
          {"keep_checkpoints", c.keep_checkpoints},
          {"resume", c.resume}};
}

run::RunSpec run_spec(const Config& c) {
  run::RunSpec r;
  r.out = c.out;
  r.save = c.save;
  r.checkpoint_every = c.checkpoint_every;
  r.keep_checkpoints = c.keep_checkpoints;
  r.progress = c.progress;
  if (c.resume == "auto")
    r.resume.mode = run::Resume::Mode::kAuto;
  else if (!c.resume.empty())
    r.resume = {run::Resume::Mode::kPath, c.resume};
  return r;
}

}  // namespace widemax::train
