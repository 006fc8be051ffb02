// `widemax diffusion`: option parsing and the command. Option names are documented here once;
// docs/cli.md is generated from them. The model and optimiser options are those of `widemax train`,
// with defaults chosen for score estimation (experiments/README.md, "Score error against width").
#include <boost/program_options.hpp>
#include <iostream>
#include <memory>

#include "options.hpp"
#include "widemax/cli/commands.hpp"
#include "widemax/cli/runtime_info.hpp"
#include "widemax/comm/grid.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/parse.hpp"
#include "widemax/core/signals.hpp"
#include "widemax/diffusion/run.hpp"

namespace po = boost::program_options;

namespace widemax::cli {

namespace {

struct Texts {
  std::string width, n, steps, lr, eval_n, samples, sample_steps, train_samples;
};

po::options_description diffusion_options(diffusion::Config& c, Texts& s) {
  train::NetSpec& m = c.net;
  po::options_description data("Data and the forward process (docs/design.md §1.3)");
  data.add_options()(
      "mixture", po::value(&c.mixture),
      "Gaussian mixture of x_0: ring8 (8 Gaussians of std 0.2 on the circle of radius 2; the "
      "default without --data), ring:K[:RADIUS[:STD]], random:K:D (drawn from --data-seed), or a "
      "JSON file {\"weights\": [K], \"means\": [K][d], \"covariances\": [K][d][d]}. With --data "
      "it is the reference only (closed-form score, fresh samples, modes)")(
      "data", po::value(&c.data),
      "CSV of points x_0 with a header, every column a coordinate: train on these instead of "
      "mixture samples")("n", po::value(&s.n)->default_value(std::to_string(c.n)),
                         "DSM rows per step: fresh (x_0, t, eps) every step")(
      "data-seed", value_of(c.data_seed),
      "seed of the rows, the held-out set, the reference samples and random:K:D")(
      "t-min", value_of(c.t_min), "smallest time of training and sampling")(
      "t-max", value_of(c.t_max), "T: largest time; sampling starts from N(0, I) there")(
      "time-sampling", typed_value(c.time_sampling, diffusion::parse_time_sampling),
      "distribution of t in [t-min, t-max]: uniform | log (uniform in log t)")(
      "time-features", value_of(c.time_features),
      "phi(t) appended to x_t: comma-separated one (constant 1), t (t/T), sigma, log-sigma, "
      "alpha (e^-t), fourier:K (cos and sin of j pi t/T, j = 1..K), raw-t (t)")(
      "parametrisation", typed_value(c.parametrisation, diffusion::parse_parametrisation),
      "eps (F predicts eps: s = s_b - F / sigma_t, fresh rows every step) | x0 (the paper's "
      "setting: F predicts x_0 from c [x_t, t], s = (e^-t F - x) / sigma_t^2; c_m = m, only W, "
      "full-batch gd on --train-samples fixed rows, early stopping; no --n, --time-features, "
      "--baseline, --train-a, or --optimizer other than gd)")(
      "train-samples", po::value(&s.train_samples)->default_value(std::to_string(c.train_samples)),
      "x0: N, the fixed training triples (x_0, t, eps), drawn once from --data-seed")(
      "holdout-samples", value_of(c.holdout_samples),
      "x0: held-out triples of the early stopping (0: N / 4)")(
      "patience", value_of(c.patience),
      "x0: stop when the held-out loss has not improved for this many evaluations (every "
      "--log-every steps; 0: never)");

  po::options_description model("Model (docs/design.md §1.1; d_out = d)");
  model.add_options()("width", po::value(&s.width)->default_value(std::to_string(m.width)),
                      "m, hidden neurons: 65536, 1e6, 2^20, 4M")(
      "scale", typed_value(m.scale, model::parse_scale), "c_m: m (the paper's) | sqrt-m (NTK)")(
      "init", typed_value(m.init, model::parse_init),
      "gaussian | symmetric (neurons in pairs (w, a), (w, -a): F(W_0) = 0)")(
      "baseline", typed_value(c.baseline, diffusion::parse_baseline),
      "gaussian (s = s_b - F / sigma_t, s_b the score of the data's Gaussian fit: pulls samples "
      "that stray from the data back) | none (s = -F / sigma_t)")(
      "sigma", value_of(m.sigma), "w_r ~ N(0, sigma^2 I)")("seed", value_of(m.seed),
                                                           "seed of the weight initialisation")(
      "seed-scope", typed_value(m.seed_scope, model::parse_seed_scope),
      "width: W_0 drawn from (seed, width, neuron), independent across widths | nested: from "
      "(seed, neuron), so a narrower network's neurons are the first of a wider one's")(
      "train-a", po::bool_switch(&m.train_a), "train A too (default: only W, as in the paper)");

  po::options_description opt("Optimisation");
  opt.add_options()("steps", po::value(&s.steps)->default_value(std::to_string(c.steps)),
                    "gradient steps")(
      "lr", po::value(&s.lr),
      "learning rate (default: 1e-2 for adam, else 1 / (an estimate of "
      "the trace of the NTK of a step's rows at init))")(
      "optimizer", typed_value(m.optimizer.kind, train::parse_optimizer), "gd | momentum | adam")(
      "momentum", value_of(m.optimizer.momentum), "momentum: v = mu v + g, w -= lr v")(
      "beta1", value_of(m.optimizer.beta1), "adam beta1")("beta2", value_of(m.optimizer.beta2),
                                                          "adam beta2")(
      "lr-schedule", typed_value(m.schedule.kind, train::parse_schedule),
      "constant | cosine (to --lr-min at the last step) | step (x --lr-gamma every "
      "--lr-step-every steps)")("lr-min", value_of(m.schedule.lr_min),
                                "cosine: final learning rate")(
      "lr-step-every", value_of(m.schedule.step_every), "step: steps between decays")(
      "lr-gamma", value_of(m.schedule.gamma), "step: decay factor")(
      "precision", typed_value(m.precision, train::parse_precision), "fp64 | fp32")(
      "log-every", value_of(c.log_every),
      "log the held-out score error to metrics.jsonl every K steps (0: first and last only)");

  po::options_description eval("Evaluation and sampling");
  eval.add_options()("eval-n", po::value(&s.eval_n)->default_value(std::to_string(c.eval_n)),
                     "held-out (x_t, t) rows of the relative score error")(
      "time-buckets", value_of(c.time_buckets),
      "time buckets of equal probability for the score error by t")(
      "sampler", typed_value(c.sampler, diffusion::parse_sampler),
      "sde (reverse-time SDE, Euler-Maruyama) | ode (probability flow, Heun)")(
      "sample-steps", po::value(&s.sample_steps)->default_value(std::to_string(c.sample_steps)),
      "sampler steps from T to t-min (geometric in t)")(
      "samples", po::value(&s.samples)->default_value(std::to_string(c.samples)),
      "samples drawn (to samples.csv)")("sample-seed", value_of(c.sample_seed),
                                        "seed of the sampler's noise")(
      "sw-directions", value_of(c.sw_directions),
      "random directions of the sliced Wasserstein distance")(
      "no-exact-reference", "do not also sample with the exact score of the mixture");

  po::options_description run("Execution and output");
  run.add_options()("grid", typed_value(m.grid, train::parse_grid_request),
                    "process grid PdxPw: Pd rows split the rows and samples, Pw columns split "
                    "the neurons (1xP: all ranks on the width)")(
      "threads", value_of(m.threads),
      "OpenMP/BLAS threads per rank (0: OMP_NUM_THREADS, else CPUs / ranks on the node)")(
      "block", value_of(m.block), "neurons per block of the streaming passes (0: automatic)")(
      "out", po::value(&c.run.out), "run directory (default: runs/diffusion-<date>-<time>)")(
      "save", po::bool_switch(&c.run.save),
      "also write W.npy, A.npy and heldout.csv (the held-out rows) into the run directory");
  add_checkpoint_options(run, c.run, "any number of ranks");
  run.add_options()("quiet", "no progress output")("help,h", "this help");

  po::options_description all;
  all.add(data).add(model).add(opt).add(eval).add(run);
  return all;
}

}  // namespace

std::optional<diffusion::Config> parse_diffusion_args(const std::vector<std::string>& args,
                                                      std::string& help_out) {
  diffusion::Config c;
  Texts s;
  s.width = std::to_string(c.net.width);
  const po::options_description desc = diffusion_options(c, s);
  po::variables_map vm;
  if (!parse_options(args, desc, "diffusion",
                     "widemax diffusion: the wide softmax network as a score model, trained by "
                     "denoising score matching on a\nGaussian mixture (or a CSV of points), "
                     "measured against the closed-form score, then sampled.\nWrites config.json, "
                     "mixture.json, metrics.jsonl, samples.csv, samples_exact.csv and "
                     "summary.json.\n\nUsage: mpirun --bind-to none -np P widemax diffusion "
                     "[options]",
                     vm, help_out))
    return std::nullopt;
  c.net.width = parse_count(s.width, "--width");
  c.n = parse_count(s.n, "--n");
  c.steps = s.steps == "0" ? 0 : parse_count(s.steps, "--steps");
  c.eval_n = parse_count(s.eval_n, "--eval-n");
  c.samples = parse_count(s.samples, "--samples");
  c.sample_steps = parse_count(s.sample_steps, "--sample-steps");
  c.train_samples = parse_count(s.train_samples, "--train-samples");
  if (!s.lr.empty()) {
    char* end = nullptr;
    c.net.lr.value = std::strtod(s.lr.c_str(), &end);
    WIDEMAX_CHECK(end == s.lr.c_str() + s.lr.size() && c.net.lr.value > 0, "--lr: '", s.lr,
                  "' is not a positive number");
  }
  c.net.scale_given = vm.count("scale") && !vm["scale"].defaulted();
  c.run.progress = !vm.count("quiet");
  c.exact_reference = !vm.count("no-exact-reference");
  auto given = [&](const char* name) { return vm.count(name) && !vm[name].defaulted(); };
  if (c.parametrisation == diffusion::Parametrisation::kX0) {
    // x0 fixes the target, inputs and optimiser: an option that would change them is refused by
    // name rather than ignored.
    for (const char* name : {"n", "time-features", "baseline", "train-a"})
      WIDEMAX_CHECK_HINT(!given(name),
                         "x0 trains W alone by full-batch gradient descent on c [x_t, t] over "
                         "--train-samples rows",
                         "--", name, " does not apply to --parametrisation x0");
    WIDEMAX_CHECK_HINT(!given("optimizer") || c.net.optimizer.kind == train::OptimizerKind::kGd,
                       "x0 trains by full-batch gradient descent", "--optimizer ",
                       train::to_string(c.net.optimizer.kind),
                       " does not apply to --parametrisation x0 (only gd)");
    diffusion::Config d = c;
    diffusion::apply_x0_defaults(d);
    if (!c.net.scale_given) c.net.scale = d.net.scale;
    if (!given("lr-schedule")) c.net.schedule.kind = d.net.schedule.kind;
    c.net.optimizer.kind = d.net.optimizer.kind;
    c.baseline = d.baseline;
    c.time_features = d.time_features;
  } else {
    for (const char* name : {"train-samples", "holdout-samples", "patience"})
      WIDEMAX_CHECK_HINT(!given(name), "give --parametrisation x0", "--", name,
                         " applies to --parametrisation x0 only");
  }
  WIDEMAX_CHECK_HINT(!c.net.grid.automatic, "give --grid PdxPw (1xP puts every rank on the width)",
                     "--grid auto is not available for widemax diffusion");
  diffusion::validate(c);
  return c;
}

int run_diffusion(const std::vector<std::string>& args) {
  std::string help;
  std::optional<diffusion::Config> c;
  {
    // The ranks agree on the parse before any other collective: a bad option is reported once.
    const comm::Communicator world(MPI_COMM_WORLD);
    comm::agree_on_errors(world, [&] { c = parse_diffusion_args(args, help); });
    if (!c) {
      if (world.rank() == 0) std::cout << help;
      return 0;
    }
  }
  const auto [p_data, p_width] = train::parse_grid(c->net.grid.text, [] {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
  }());
  const comm::Grid grid(MPI_COMM_WORLD, p_data, p_width);
  const int threads = resolve_threads(c->net.threads, grid.world());
  const nlohmann::json runtime = describe_runtime(grid.world(), threads, c->run.progress);
  install_preemption_handlers();
  const diffusion::Result r =
      diffusion::run_diffusion(*c, grid, threads, runtime, /*write_outputs=*/true);
  return r.preempted ? kExitPreempted : 0;
}

}  // namespace widemax::cli
