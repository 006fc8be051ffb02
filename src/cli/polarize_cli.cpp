// `widemax polarize`: option parsing and the command. Option names are documented here once;
// docs/cli.md is generated from this help text (scripts/gen_cli_docs.sh; a ctest test checks it).
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>

#include "options.hpp"
#include "widemax/cli/commands.hpp"
#include "widemax/cli/runtime_info.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/parse.hpp"
#include "widemax/core/signals.hpp"
#include "widemax/polarize/run.hpp"

namespace po = boost::program_options;

namespace widemax::cli {

namespace {

// --beta: the word "random", else a .npy file.
std::string parse_beta(const std::string& text) {
  WIDEMAX_CHECK_HINT(!text.empty(), "give 'random' or a .npy file of shape (d, 1)",
                     "--beta: no such file ''");
  return text == "random" ? std::string() : text;
}

po::options_description polarize_options(polarize::Config& c, std::string& T, std::string& steps,
                                         std::string& lr) {
  po::options_description model("Model and loss (docs/design.md §1.2)");
  model.add_options()("loss", typed_value(c.loss, polarize::parse_loss),
                      "logistic: log(1 + exp(-<beta, y>)) | square: 1/2 ||y - beta||^2 | "
                      "cross-entropy: -sum_k p*_k log softmax(y)_k, where y = V softmax(a)")(
      "T", po::value(&T)->default_value(std::to_string(c.T)),
      "softmax length T, split over the ranks: 8, 1e6, 2^20")(
      "d", value_of(c.d), "value dimension d (rows of V; taken from --beta when it is a file)")(
      "beta", typed_value(c.beta, parse_beta, "random"),
      "'random' (N(0, I_d) from --beta-seed, scaled to ||beta|| = 1) or a .npy file of d numbers, "
      "shape (d, 1) or (1, d)")("beta-seed", value_of(c.beta_seed), "seed of a random beta")(
      "beta-norm", value_of(c.beta_norm),
      "||beta|| of a random beta (the square loss's target norm)")(
      "ce-target", typed_value(c.ce_target, polarize::parse_ce_target),
      "cross-entropy p*: argmax (one-hot at argmax_k beta_k) | softmax (softmax(beta))");

  po::options_description init(
      "Initialisation (the paper's toy runs: V ~ 0.1 N(0,1), a = 0 or 1 + "
      "0.1 N(0,1))");
  init.add_options()("v-scale", value_of(c.v_scale), "V[k, j] ~ v-scale N(0, 1)")(
      "a-mean", value_of(c.a_mean), "a_j ~ a-mean + a-noise N(0, 1)")(
      "a-noise", value_of(c.a_noise), "see --a-mean")(
      "seed", value_of(c.seed),
      "seed of V and a (keyed by the global token index: the same on any rank count)")(
      "init-from", po::value(&c.init_from),
      "start from DIR/V.npy (T, d) and DIR/a.npy (T, 1) instead of the generator");

  po::options_description opt("Optimisation (plain full gradient descent)");
  opt.add_options()("lr", po::value(&lr)->default_value("0.1"), "learning rate")(
      "lr-schedule", typed_value(c.lr_schedule, polarize::parse_lr_schedule),
      "constant | inverse-max-prob: step t uses lr / max_prob_t, the same gradient-flow path on "
      "another clock (flow_time = sum of the steps), ~T times faster while alpha is spread")(
      "steps", po::value(&steps)->default_value(std::to_string(c.steps)), "gradient steps")(
      "log-every", value_of(c.log_every),
      "log to metrics.jsonl every K steps (0: first and last only), besides the log-spaced steps "
      "of --log-per-decade")(
      "log-per-decade", value_of(c.log_per_decade),
      "also log about N log-spaced steps per decade (0: none); the first and last steps always");

  po::options_description run("Execution and output");
  run.add_options()("threads", value_of(c.threads),
                    "OpenMP threads per rank (0: OMP_NUM_THREADS, else CPUs / ranks on the node)")(
      "out", po::value(&c.run.out), "run directory (default: runs/polarize-<date>-<time>)")(
      "save", po::bool_switch(&c.run.save),
      "write V.npy and a.npy into the run directory at the end");
  add_checkpoint_options(run, c.run, "any number of ranks");
  run.add_options()("quiet", "no progress output")("help,h", "this help");

  po::options_description all;
  all.add(model).add(init).add(opt).add(run);
  return all;
}

}  // namespace

std::optional<polarize::Config> parse_polarize_args(const std::vector<std::string>& args,
                                                    std::string& help_out) {
  polarize::Config c;
  std::string T, steps, lr;
  const po::options_description desc = polarize_options(c, T, steps, lr);
  po::variables_map vm;
  if (!parse_options(
          args, desc, "polarize",
          "widemax polarize: gradient descent on the value-softmax model y = V "
          "softmax(a), V (d x T) and a (T)\nboth trained, the softmax length T split "
          "over the MPI ranks. Logs the entropy of softmax(a) (nats),\nmax_prob, the "
          "loss and the gradient norms to metrics.jsonl (docs/design.md §1.2).\n\nUsage: mpirun "
          "--bind-to none -np P widemax polarize [options]",
          vm, help_out))
    return std::nullopt;
  c.T = parse_count(T, "--T");
  c.steps = steps == "0" ? 0 : parse_count(steps, "--steps");
  char* end = nullptr;
  c.lr = std::strtod(lr.c_str(), &end);
  c.lr_given = !vm["lr"].defaulted();
  WIDEMAX_CHECK(!lr.empty() && end == lr.c_str() + lr.size(), "--lr: '", lr, "' is not a number");
  c.d_given = vm.count("d") && !vm["d"].defaulted();
  c.run.progress = !vm.count("quiet");
  polarize::validate(c);
  return c;
}

int run_polarize(const std::vector<std::string>& args) {
  std::string help;
  std::optional<polarize::Config> c;
  const comm::Communicator world(MPI_COMM_WORLD);
  // The ranks agree on the parse before any other collective: a bad option is reported once.
  comm::agree_on_errors(world, [&] { c = parse_polarize_args(args, help); });
  if (!c) {
    if (world.rank() == 0) std::cout << help;
    return 0;
  }
  const int threads = resolve_threads(c->threads, world);
  const nlohmann::json runtime = describe_runtime(world, threads, c->run.progress);
  install_preemption_handlers();
  const polarize::Result r =
      polarize::run_polarize(*c, world, threads, runtime, /*write_outputs=*/true);
  return r.preempted ? kExitPreempted : 0;
}

}  // namespace widemax::cli
