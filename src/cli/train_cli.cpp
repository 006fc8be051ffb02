// `widemax train`: option parsing (command line, then an INI --config file; the command line wins)
// and the command itself. Option names are documented here once; docs/cli.md is generated from
// them.
#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "options.hpp"
#include "widemax/cli/commands.hpp"
#include "widemax/cli/runtime_info.hpp"
#include "widemax/comm/grid.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/parse.hpp"
#include "widemax/core/signals.hpp"
#include "widemax/train/grid_choice.hpp"
#include "widemax/train/loop.hpp"
#include "widemax/train/ntk_run.hpp"

namespace po = boost::program_options;

namespace widemax::cli {

namespace {

// --data: the word "synthetic", else a CSV file.
std::string parse_data_source(const std::string& text) {
  WIDEMAX_CHECK_HINT(!text.empty(), "give 'synthetic' or a CSV file", "--data: empty file name");
  return text == "synthetic" ? std::string() : text;
}

// --sigma and --init: 'auto' (the default: chosen from the data once it is loaded, see
// train::resolve_data_defaults) or a value.
double parse_sigma(const std::string& text, bool& automatic) {
  automatic = text == "auto";
  if (automatic) return 1.0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  WIDEMAX_CHECK_HINT(!text.empty() && end == text.c_str() + text.size(),
                     "give a positive number such as 0.3, or auto", "--sigma: '", text,
                     "' is neither a number nor 'auto'");
  return v;
}

// The options of `widemax train`, or of `widemax ntk` (`ntk`): the model, data and execution
// options without those of the optimisation, the training loop and checkpoints, which it does not
// use.
po::options_description train_options(train::Config& cfg, std::string& width, std::string& n,
                                      std::string& n_test, std::string& steps, std::string& target,
                                      std::string& lr, std::string& sigma, std::string& init,
                                      double& net_latency_us, double& net_bandwidth_gbs, bool ntk) {
  train::NetSpec& c = cfg.net;
  train::DataSpec& dat = cfg.data;
  run::RunSpec& r = cfg.run;
  po::options_description model("Model (docs/design.md §1.1)");
  model.add_options()("activation", typed_value(c.activation, model::parse_activation),
                      "hidden layer: softmax | exp | relu")(
      "scale", typed_value(c.scale, model::parse_scale),
      "c_m of softmax: m (the paper's) | sqrt-m (NTK); exp and relu always use m^-1/2")(
      "width", po::value(&width)->default_value(std::to_string(c.width)),
      "m, hidden neurons: 65536, 1e6, 2^20, 4M")(
      "d-out", value_of(c.d_out),
      "output dimension (for CSV data: the number of --target columns)")(
      "init", po::value(&init)->default_value("auto"),
      "gaussian | symmetric (neurons in pairs (w, a), (w, -a): F(W_0) = 0) | auto: gaussian for "
      "synthetic data; symmetric for CSV data when --width is even, so that training starts from "
      "F = 0 instead of a random output of size sqrt(m)")(
      "sigma", po::value(&sigma)->default_value("auto"),
      "w_r ~ N(0, sigma^2 I); auto: 1 for synthetic data (||x|| = 1), and for CSV data "
      "1/sqrt(mean_i ||x_i||^2) over the training rows (after --standardize: 1/sqrt(d)), to 4 "
      "digits, so that sigma^2 ||x||^2 is about 1 and the hidden softmax is not saturated")(
      "seed", value_of(c.seed), "seed of the weight initialisation")(
      "seed-scope", typed_value(c.seed_scope, model::parse_seed_scope),
      "width: W_0 drawn from (seed, width, neuron), independent across widths | nested: from "
      "(seed, neuron), so a narrower network's neurons are the first of a wider one's");
  if (!ntk)
    model.add_options()("train-a", po::bool_switch(&c.train_a),
                        "train A too (default: only W, as in the paper)");
  model.add_options()(
      "init-from", po::value(&c.init_from),
      "start from DIR/W.npy (m, d) and DIR/A.npy (m, d_out) instead of the generator");

  po::options_description opt("Optimisation");
  opt.add_options()(
      "lr", po::value(&lr),
      "learning rate, or 'auto' for --lr-auto-c / lambda_max(H_0) from the NTK (default for "
      "gd/momentum: 1 / (an estimate of the trace of the NTK of a batch at init), stable for "
      "gradient descent; for adam: 1e-3)")("lr-auto-c", value_of(c.lr.auto_c),
                                           "--lr auto: the c of c / lambda_max(H_0)")(
      "optimizer", typed_value(c.optimizer.kind, train::parse_optimizer), "gd | momentum | adam")(
      "momentum", value_of(c.optimizer.momentum), "momentum: v = mu v + g, w -= lr v")(
      "beta1", value_of(c.optimizer.beta1), "adam beta1")(
      "beta2", value_of(c.optimizer.beta2), "adam beta2")("eps", value_of(c.optimizer.eps),
                                                          "adam epsilon")(
      "batch", value_of(cfg.batch),
      "global mini-batch size (0: full batch); batches reshuffled every epoch from --data-seed, "
      "the same on every grid")(
      "lr-schedule", typed_value(c.schedule.kind, train::parse_schedule),
      "constant | cosine (to --lr-min at the last step) | step (x --lr-gamma every "
      "--lr-step-every steps)")("lr-min", value_of(c.schedule.lr_min),
                                "cosine: final learning rate")(
      "lr-step-every", value_of(c.schedule.step_every), "step: steps between decays")(
      "lr-gamma", value_of(c.schedule.gamma), "step: decay factor")(
      "steps", po::value(&steps)->default_value(std::to_string(cfg.steps)), "gradient steps")(
      "log-every", value_of(cfg.log_every),
      "log to metrics.jsonl every K steps (0: first and last only)");

  po::options_description data("Data");
  data.add_options()(
      "data", typed_value(dat.csv, parse_data_source, "synthetic"),
      "'synthetic' (the paper's setting: ||x|| = 1, targets in [-1, 1]) or a CSV file with a "
      "header")("n", po::value(&n)->default_value(std::to_string(dat.n)),
                "synthetic: number of samples")("d", value_of(dat.d), "synthetic: input dimension")(
      "labels", typed_value(dat.labels, data::parse_labels),
      "synthetic targets: teacher (y = tanh(2 <v, x>)) | random (uniform in [-1, 1])")(
      "data-seed", value_of(dat.data_seed), "seed of the synthetic data")(
      "target", po::value(&target),
      "CSV: target column(s), comma-separated; the rest are features")(
      "standardize", po::bool_switch(&dat.standardize),
      "CSV: rescale features to mean 0, variance 1")("standardize-target",
                                                     po::bool_switch(&dat.standardize_target),
                                                     "rescale targets to mean 0, variance 1")(
      "test-fraction", value_of(dat.test_fraction),
      "hold out this fraction of the rows (chosen by a hash of --data-seed and the row, so the "
      "same on every grid); test loss logged")("test-data", po::value(&dat.test_data),
                                               "CSV of held-out samples with the same columns")(
      "classes", value_of(dat.classes),
      "K > 0: the one --target column is a class label 0..K-1, one-hot encoded into K outputs; "
      "accuracy (argmax) logged");
  if (!ntk)
    data.add_options()("n-test", po::value(&n_test)->default_value("0"),
                       "synthetic: hold out K more samples, rows n .. n+K-1 of the same generator "
                       "(the n training rows unchanged, the same on every grid); test loss logged");

  po::options_description diag("NTK diagnostics (docs/design.md §3)");
  if (!ntk)
    diag.add_options()(
        "ntk-every", value_of(cfg.ntk_every),
        "every K steps log lambda_min/max of H_t, ||H_t - H_0||_F / ||H_0||_F, ||W_t - W_0||_F, "
        "max_r ||w_r(t) - w_r(0)|| with its 50/90/99% quantiles over the neurons, and the "
        "hidden-softmax entropy (0: off)");
  diag.add_options()(
      "ntk-samples", value_of(cfg.ntk_samples),
      "samples of the NTK (0: all when n d_out <= 1024, else a fixed random 1024 / d_out)");
  if (ntk)
    diag.add_options()(
        "perturb", value_of(cfg.perturb),
        "R > 0: also H at W_0 + Delta, Delta_r = R u_r with u_r uniform on the unit sphere of R^d, "
        "drawn from (--perturb-seed, the width as for W_0 under --seed-scope width, the neuron): "
        "the same on every grid (with --init-from: added to the loaded W). summary.json gets "
        "||H(W_0 + Delta) - H(W_0)||_F, relative and spectral, and the perturbed lambda_min/max; "
        "H.npy stays H(W_0), H_perturbed.npy is H(W_0 + Delta) (0: off)")(
        "perturb-seed", po::value(&cfg.perturb_seed),
        "seed of the directions u_r of --perturb (default: --seed)");

  po::options_description run("Execution and output");
  run.add_options()("grid", typed_value(c.grid, train::parse_grid_request),
                    "process grid PdxPw: Pd rows split the samples, Pw columns split the neurons "
                    "(1xP: all ranks on the width; auto: chosen by a cost model)")(
      "net-latency", po::value(&net_latency_us),
      "grid auto: all-reduce latency in microseconds (default: measured at start)")(
      "net-bandwidth", po::value(&net_bandwidth_gbs),
      "grid auto: all-reduce bandwidth in GB/s (default: measured at start)")(
      "precision", typed_value(c.precision, train::parse_precision), "fp64 | fp32")(
      "threads", value_of(c.threads),
      "OpenMP/BLAS threads per rank (0: OMP_NUM_THREADS, else CPUs / ranks on the node)")(
      "block", value_of(c.block),
      "neurons per block of the streaming passes (0: automatic, logits of a block ~1 MiB)");
  if (!ntk)
    run.add_options()(
        "logit-cache", typed_value(c.logit_cache, train::parse_logit_cache),
        "keep pass 1's exponentials (n x m/P numbers per rank) so that pass 2 skips a GEMM and an "
        "exp, ~30% faster: on | off | auto (on when it needs at most 1/4 of the rank's free "
        "memory)");
  run.add_options()("out", po::value(&r.out),
                    ntk ? "run directory (default: runs/ntk-<date>-<time>)"
                        : "run directory (default: runs/train-<date>-<time>)");
  if (ntk) {
    run.add_options()("save", po::bool_switch(&r.save),
                      "write W.npy and A.npy into the run directory: the weights H.npy is of, or "
                      "with --perturb W_0 + Delta (those of H_perturbed.npy)");
    add_overwrite_option(run, r, false);
  } else {
    run.add_options()("save", po::bool_switch(&r.save),
                      "write W.npy and A.npy into the run directory at the end");
    add_checkpoint_options(run, r, "any number of ranks and grid");
  }
  run.add_options()("quiet", ntk ? "no placement report at start" : "no progress output")(
      "config", po::value(&cfg.config_file),
      "INI file with the same keys (key = value; relative paths in it are relative to its own "
      "directory); the command line wins")("help,h", "this help");

  po::options_description all;
  all.add(model);
  if (!ntk) all.add(opt);
  all.add(data).add(diag).add(run);
  return all;
}

// The options whose values are paths: in an INI file they are relative to the file's directory.
bool is_path_option(const std::string& key, const std::string& value) {
  if (key == "data") return value != "synthetic";
  if (key == "resume") return value != "auto";
  return key == "test-data" || key == "init-from" || key == "out";
}

}  // namespace

std::optional<train::Config> parse_train_args(const std::vector<std::string>& args,
                                              std::string& help_out, const std::string& command) {
  train::Config c;
  std::string width, n, n_test, steps, target, lr, sigma, init;
  double net_latency_us = 0, net_bandwidth_gbs = 0;
  const po::options_description desc =
      train_options(c, width, n, n_test, steps, target, lr, sigma, init, net_latency_us,
                    net_bandwidth_gbs, command == "ntk");
  po::variables_map vm;
  const std::string about =
      command == "ntk"
          ? "widemax ntk: the empirical NTK H of F(x) = c A softmax(W^T x) with respect to W, at "
            "initialisation (or --init-from),\nwithout training. Writes H.npy (n d_out x n d_out, "
            "index i * d_out + k), eigenvalues.npy, spectrum.csv,\nntk_samples.csv and "
            "summary.json; with --perturb R also H_perturbed.npy, H at W_0 + Delta (||Delta_r|| "
            "= R),\nand the size of the difference in summary.json. It takes the model, data and "
            "execution options\nof 'widemax train'.\n\nUsage: mpirun --bind-to none -np P widemax "
            "ntk [options]"
          : "widemax train: train F(x) = c A softmax(W^T x) by gradient descent, neurons "
            "sharded over MPI ranks\n\nUsage: mpirun --bind-to none -np P widemax train "
            "[options]";
  if (!parse_options(args, desc, command, about, vm, help_out)) return std::nullopt;
  if (vm.count("config")) {
    const std::string file = vm["config"].as<std::string>();
    // A directory opens as an empty stream: without this check it would run every default.
    WIDEMAX_CHECK_HINT(!std::filesystem::is_directory(file),
                       "give an INI file of 'key = value' lines", "--config: '", file,
                       "' is a directory, not a regular file");
    std::ifstream in(file);
    WIDEMAX_CHECK(in, "--config: cannot open '", file, "'");
    try {
      po::parsed_options parsed = po::parse_config_file(in, desc);
      // The command line's --config is already stored, so a nested one would be silently ignored.
      for (const auto& o : parsed.options)
        WIDEMAX_CHECK_HINT(o.string_key != "config",
                           "put the keys of the other file into this one, or give it as --config",
                           "--config ", file,
                           ": the key 'config' is not allowed inside a "
                           "config file (config files do not include others)");
      // A path written in the file means a file next to it, wherever the run is started from.
      const std::filesystem::path dir = std::filesystem::path(file).parent_path();
      for (auto& o : parsed.options)
        for (auto& v : o.value)
          if (is_path_option(o.string_key, v) && !v.empty() &&
              std::filesystem::path(v).is_relative())
            v = (dir / v).string();
      po::store(parsed, vm);  // values already stored (command line) win
      po::notify(vm);
    } catch (const po::error& e) {
      WIDEMAX_FAIL_HINT(
          "the file holds lines 'key = value' with the long option names of widemax " + command +
              " --help, without the dashes",
          "--config ", file, ": ", e.what());
    }
  }
  c.net.width = parse_count(width, "--width");
  c.data.n = parse_count(n, "--n");
  c.data.n_test = n_test.empty() || n_test == "0" ? 0 : parse_count(n_test, "--n-test");
  c.steps = steps.empty() || steps == "0" ? 0 : parse_count(steps, "--steps");  // ntk: none
  if (!target.empty()) c.data.target = split_list(target, "--target");
  if (lr == "auto") {
    c.net.lr.automatic = true;
  } else if (!lr.empty()) {
    char* end = nullptr;
    c.net.lr.value = std::strtod(lr.c_str(), &end);
    WIDEMAX_CHECK(end == lr.c_str() + lr.size() && c.net.lr.value > 0, "--lr: '", lr,
                  "' is neither a positive number nor 'auto'");
  }
  c.net.sigma = parse_sigma(sigma, c.net.sigma_default);
  c.net.init_default = init == "auto";
  if (!c.net.init_default) c.net.init = model::parse_init(init);
  c.net.scale_given = vm.count("scale") && !vm["scale"].defaulted();
  c.net.d_out_given = vm.count("d-out") && !vm["d-out"].defaulted();
  c.run.progress = !vm.count("quiet");
  if (!vm.count("perturb-seed")) c.perturb_seed = c.net.seed;
  if (vm.count("net-latency") || vm.count("net-bandwidth")) {
    WIDEMAX_CHECK(vm.count("net-latency") && vm.count("net-bandwidth"),
                  "give both --net-latency and --net-bandwidth (or neither, to measure them)");
    c.net.grid.network = comm::Network{net_latency_us * 1e-6, net_bandwidth_gbs * 1e9,
                                       "--net-latency/--net-bandwidth"};
    c.net.grid.network_given = true;
  }
  train::validate(c);
  return c;
}

namespace {

// What every sub-command that runs the model does first: parse (or print --help), arrange the
// ranks in a grid, settle the threads and report the placement. Returns nullopt after --help.
struct Session {
  train::Config config;
  std::unique_ptr<comm::Grid> grid;
  int threads = 1;
  nlohmann::json runtime;
};

std::optional<Session> start_session(const std::vector<std::string>& args,
                                     const std::string& command) {
  std::string help;
  std::optional<train::Config> c;
  const comm::Communicator world(MPI_COMM_WORLD);
  // Every rank parses the same arguments (and reads the same --config file): they agree on the
  // outcome before any other collective, so a bad option is reported once and ends every rank.
  comm::agree_on_errors(world, [&] { c = parse_train_args(args, help, command); });
  if (!c) {
    if (world.rank() == 0) std::cout << help;
    return std::nullopt;
  }
  Session s;
  s.config = std::move(*c);
  s.threads = resolve_threads(s.config.net.threads, world);
  const auto [p_data, p_width] =
      train::resolve_grid(s.config.net, s.config.data, s.config.batch, world, s.threads);
  s.grid = std::make_unique<comm::Grid>(MPI_COMM_WORLD, p_data, p_width);
  s.runtime = describe_runtime(s.grid->world(), s.threads, s.config.run.progress);
  return s;
}

}  // namespace

int run_train(const std::vector<std::string>& args) {
  const std::optional<Session> s = start_session(args, "train");
  if (!s) return 0;
  install_preemption_handlers();
  const train::RunResult r =
      train::run_training(s->config, *s->grid, s->threads, s->runtime, /*write_outputs=*/true);
  return r.preempted ? kExitPreempted : 0;
}

int run_ntk(const std::vector<std::string>& args) {
  std::optional<Session> s = start_session(args, "ntk");
  if (!s) return 0;
  s->config.net.logit_cache = train::LogitCacheMode::kOff;  // the NTK's passes do not use it
  train::run_ntk(s->config, *s->grid, s->threads, s->runtime);
  return 0;
}

}  // namespace widemax::cli
