// The training loop. See loop.hpp. Everything rank-dependent is decided before the loop; inside it
// every rank calls the same collectives in the same order (trainer.hpp lists them).
#include "widemax/train/loop.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>

#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/data/standardization.hpp"
#include "widemax/ntk/ntk.hpp"
#include "widemax/run/run.hpp"
#include "widemax/train/batches.hpp"
#include "widemax/train/checkpoint.hpp"
#include "widemax/train/ntk_run.hpp"
#include "widemax/train/optimizer.hpp"
#include "widemax/train/plan.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

namespace {

constexpr const char* kDivergedHint = "lower --lr (or check the data's scale)";

// What a resumed run may change besides the run layer's own keys (run::Run::check_resume): the
// rate when --lr says so, the execution on the ranks (the trajectory does not depend on it beyond
// round-off) and the options file.
// clang-format off
const std::vector<std::string> kMayChangeOnResume = {
    "lr", "lr_source", "config", "grid", "grid_resolved", "block", "block_resolved", "logit_cache",
    "logit_cache_resolved", "net_latency", "net_bandwidth", "lr_auto", "lr_auto_c", "sigma_source",
    "init_source"};
// clang-format on

// The NTK at W_0 that the diagnostics compare against (H_0 even when resumed: the checkpoint
// holds W_0), and its spectrum for summary.json.
// With it, the linearised model's loss curve: H_0's eigenvalues and the squared projections of the
// initial residual r_0 = F(W_0) - y on its eigenvectors (enabled by enable_linearised_loss).
struct NtkReference {
  std::vector<double> H0;
  double norm = 0;
  nlohmann::json summary;
  std::vector<double> lambda, c2;
  bool linearised = false;
};

template <class T>
NtkReference ntk_reference(Trainer<T>& tr, std::vector<T>& W0, bool resumed, std::size_t samples) {
  NtkReference r;
  if (resumed) std::swap(tr.params_mut().W, W0);
  r.H0 = tr.ntk();
  std::vector<double> r0(static_cast<std::size_t>(tr.ntk_size()));
  for (std::size_t q = 0; q < r0.size(); ++q)
    r0[q] = static_cast<double>(tr.ntk_outputs()[q]) - static_cast<double>(tr.ntk_targets()[q]);
  if (resumed) std::swap(tr.params_mut().W, W0);
  r.norm = ntk::frobenius(r.H0);
  const std::int64_t N = tr.ntk_size();
  ntk::SymmetricEigen eig = ntk::symmetric_eigen(r.H0, N);
  const std::vector<double>& ev = eig.values;
  r.c2.assign(static_cast<std::size_t>(N), 0.0);
  for (std::int64_t k = 0; k < N; ++k) {
    double dot = 0;
    for (std::int64_t q = 0; q < N; ++q) dot += eig.vectors[k * N + q] * r0[q];
    r.c2[k] = dot * dot;
  }
  r.summary = {{"ntk_samples", samples},
               {"lambda_min_0", ev.front()},
               {"lambda_max_0", ev.back()},
               {"trace_0", std::accumulate(ev.begin(), ev.end(), 0.0)}};
  r.lambda = std::move(eig.values);
  return r;
}

// The linearised model's loss is the exact prediction for the run only when the run is gradient
// descent on all of H_0's samples with one rate: full batch, gd, a constant rate, the NTK over
// every training sample, and the rate not changed at a resume. Returns why not (empty: enabled).
std::string linearised_loss_off(const Config& c, const LocalData& data, std::size_t ntk_samples,
                                bool mini, const std::string& lr_source) {
  if (c.net.optimizer.kind != OptimizerKind::kGd) return "the optimiser is not gd";
  if (c.net.schedule.kind != ScheduleKind::kConstant) return "the learning rate is scheduled";
  if (mini) return "mini-batches";
  if (static_cast<std::int64_t>(ntk_samples) != data.train.n_global)
    return "the NTK holds a subset of the training samples";
  if (c.net.train_a) return "--train-a (the NTK is that of W alone)";
  if (lr_source.find("changed on resume") != std::string::npos) return "--lr changed on resume";
  return {};
}

// The learning rate and where it came from: the interrupted run's exact rate on resume, --lr
// auto (c / lambda_max(H_0), a subset's lambda_max scaled to the training set, since it grows with
// the number of samples), --lr, or the default heuristic of default_lr().
std::pair<double, std::string> learning_rate(const Config& c, const nlohmann::json& resumed,
                                             const NtkReference& ntk0, std::size_t ntk_samples,
                                             const LocalData& data, const comm::Grid& grid) {
  if (!resumed.empty()) {  // the interrupted run's exact rate, unless --lr says otherwise
    const double stored = resumed.value("lr", 0.0);
    if (c.net.lr.given() && c.net.lr.value != stored)
      return {c.net.lr.value, cat("--lr, changed on resume from ", stored)};
    return {stored, "resumed from the checkpoint"};
  }
  if (c.net.lr.automatic) {
    const double scale =
        static_cast<double>(data.train.n_global) / static_cast<double>(ntk_samples);
    const double lmax = ntk0.summary["lambda_max_0"].get<double>() * scale;
    const double lr = c.net.lr.auto_c / lmax;
    log::info(cat("--lr auto: lr = ", c.net.lr.auto_c, " / lambda_max(H_0) = ", c.net.lr.auto_c,
                  " / ", lmax, " = ", lr,
                  scale != 1 ? cat(" (lambda_max of ", ntk_samples, " samples x ", scale, ")")
                             : std::string()));
    return {lr, "--lr auto: c / lambda_max(H_0)"};
  }
  if (c.net.lr.given()) return {c.net.lr.value, "--lr"};
  if (c.net.optimizer.kind == OptimizerKind::kAdam)
    return {default_lr(c.net, c.batch, data, grid), "default for adam"};
  return {default_lr(c.net, c.batch, data, grid),
          "default: 1 / estimated trace of the NTK at init"};
}

// One metrics.jsonl record: the step's figures, the full training loss (and accuracy), the
// held-out loss, and at NTK steps the kernel's spectrum and drift. Every rank calls it at the same
// steps: it issues collectives. `grad_norm` is that of the last compute_gradient(), so a step is
// logged before its update.
template <class T>
nlohmann::json step_metrics(Trainer<T>& tr, const Config& c, const LocalData& data,
                            const NtkReference& ntk0, const std::vector<T>& W0, double lr,
                            std::int64_t step, double step_loss, bool full_batch) {
  const bool classes = data.classes > 0;
  nlohmann::json j = {{"step", step},
                      {"grad_norm", tr.grad_norm()},
                      {"lr", scheduled_lr(c.net.schedule, lr, step, c.steps)}};
  Evaluation train_eval{step_loss, 0, data.train.n_global};
  if (!full_batch || classes) train_eval = tr.evaluate_train();
  j["loss"] = train_eval.loss;
  j["mean_loss"] = train_eval.mean_loss();
  if (!full_batch) j["batch_loss"] = step_loss;
  if (classes) j["train_accuracy"] = train_eval.accuracy();
  if (data.test.n_global > 0) {
    const Evaluation test = tr.evaluate_test();
    j["test_loss"] = test.loss;
    j["test_mean_loss"] = test.mean_loss();
    if (classes) j["test_accuracy"] = test.accuracy();
  }
  if (ntk0.linearised) j["linear_loss"] = ntk::linearised_loss(ntk0.lambda, ntk0.c2, lr, step);
  if (c.ntk_every > 0 && (step % c.ntk_every == 0 || step == c.steps)) {
    const std::vector<double> H = step == 0 ? ntk0.H0 : tr.ntk();
    const auto ev = ntk::symmetric_eigenvalues(H, tr.ntk_size());
    j["ntk_lambda_min"] = ev.front();
    j["ntk_lambda_max"] = ev.back();
    j["ntk_drift"] = ntk::frobenius_diff(H, ntk0.H0) / ntk0.norm;
    const WeightDrift w = tr.weight_drift(W0);
    j["w_drift"] = w.fro;
    j["w_drift_max"] = w.max;
    j["w_drift_q50"] = w.q50;
    j["w_drift_q90"] = w.q90;
    j["w_drift_q99"] = w.q99;
    if (tr.shape().activation == model::Activation::kSoftmax) j["entropy"] = tr.mean_entropy();
  }
  return j;
}

// The hidden softmax is saturated at the start when a sample's weight sits on a few neurons:
// exp(mean entropy), the effective number of neurons, below sqrt(m) (the mean largest
// probability is reported beside it; alone it would flag any m <= 2). For logits N(0, s^2),
// s^2 = sigma^2 ||x||^2, the entropy is log m - s^2/2 while e^{s^2} << m, so the effective number
// is m e^{-s^2/2} and reaches sqrt(m) where s^2 = log m: there e^{s^2} = m, the normaliser stops
// being an average over neurons (its relative spread sqrt((e^{s^2} - 1)/m) reaches 1), the
// default learning rate's trace estimate (default_lr) no longer holds, and gradient steps move a
// few neurons per sample. Returns whether it warned (rank 0 prints; every rank returns alike).
bool warn_if_saturated(const SoftmaxSpread& sp, const Config& c, double mean_sq, const Plan& plan,
                       bool print) {
  const double m = static_cast<double>(c.net.width);
  const double effective = std::exp(sp.mean_entropy);
  if (!(effective < std::sqrt(m))) return false;
  if (!print) return true;
  std::string fix = "give a smaller --sigma";
  if (c.data.is_csv())
    fix += plan.sigma_source.rfind("--sigma", 0) == 0
               ? cat(" (without --sigma, CSV data gets 1/sqrt(mean ||x||^2) = ",
                     csv_default_sigma(mean_sq), ")")
               : "";
  if (c.data.is_csv() && !c.data.standardize) fix += ", --standardize the features";
  fix += ", or give --lr";
  log::warn_replicated(cat(
      "the hidden softmax is saturated at the start: a sample's weight sits on exp(entropy) = ",
      effective, " of the m = ", c.net.width, " neurons on average (below sqrt(m) = ", std::sqrt(m),
      "), and its largest probability is ", sp.mean_max_prob, " on average. sigma^2 ||x||^2 is ",
      c.net.sigma * c.net.sigma * mean_sq, " on average (sigma = ", c.net.sigma, ", ",
      plan.sigma_source, "; mean ||x||^2 = ", mean_sq,
      "), where about 1 keeps the softmax spread over the neurons; gradient steps now move only a "
      "few neurons per sample, and the learning rate (",
      plan.lr, ", ", plan.lr_source, ") may be far too small to train. To fix it: ", fix));
  return true;
}

// The loss has not moved over the first logged interval (relative change below 1e-9): the steps
// are too small to train. Returns whether it warned (rank 0 prints; every rank returns alike).
bool warn_if_stalled(double loss0, std::int64_t step0, double loss1, std::int64_t step1,
                     const Config& c, const Plan& plan, bool print) {
  const double change = std::abs(loss1 - loss0) / std::abs(loss0);
  if (!(loss0 != 0 && change < 1e-9)) return false;
  if (!print) return true;
  std::string fix = "give a larger --lr (or --lr auto, or --optimizer adam)";
  if (c.data.is_csv() && !c.data.standardize) fix += ", --standardize the features";
  if (plan.sigma_source.rfind("--sigma", 0) == 0) fix += ", a smaller --sigma (or leave it out)";
  log::warn_replicated(cat("the training loss has not moved: ", loss0, " at step ", step0, " and ",
                           loss1, " at step ", step1, " (relative change ", change,
                           ", below 1e-9). The learning rate ", plan.lr, " (", plan.lr_source,
                           ") is too small for this network and data (sigma = ", c.net.sigma, ", ",
                           plan.sigma_source, "). To fix it: ", fix));
  return true;
}

// The last line of a run: the mean losses (the sums divided by the samples), so that train and
// test compare, the accuracy with --classes, the time per step and the run directory.
std::string final_line(const nlohmann::json& s, const std::string& dir) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "final: train mean loss %.6g (%.6g at step 0, %.4gx lower)",
                s["final_mean_loss"].get<double>(), s["initial_mean_loss"].get<double>(),
                s["loss_reduction"].get<double>());
  std::string line = buf;
  if (s.contains("test_mean_loss")) {
    std::snprintf(buf, sizeof buf, ", test mean loss %.6g", s["test_mean_loss"].get<double>());
    line += buf;
    if (s.contains("initial_test_mean_loss")) {
      std::snprintf(buf, sizeof buf, " (%.6g at step 0)",
                    s["initial_test_mean_loss"].get<double>());
      line += buf;
    }
  }
  for (const char* k : {"train_accuracy", "test_accuracy"})
    if (s.contains(k)) {
      std::snprintf(buf, sizeof buf, ", %s %.6g", k[1] == 'r' ? "train accuracy" : "test accuracy",
                    s[k].get<double>());
      line += buf;
    }
  std::snprintf(buf, sizeof buf, "; %lld steps, %.4g ms/step median, run directory ",
                static_cast<long long>(s["steps"].get<std::int64_t>()),
                s["step_time_median_s"].get<double>() * 1e3);
  return line + buf + dir;
}

template <class T>
RunResult run_impl(const Config& request, const comm::Grid& grid, int threads,
                   const nlohmann::json& runtime, bool write_outputs) {
  Stopwatch wall;
  run::Run run(request.run, "train", grid.world(), runtime, write_outputs, request.steps);

  // Resolve: the data (its shape completes the request), the NTK samples, the memory check and
  // the execution choices before the network is allocated; then the learning rate.
  Config shaped = request;
  if (run.writes()) shaped.run.out = run.path().string();
  check_memory_before_loading(shaped, grid, threads);
  const LocalData data = load_data(shaped.data, shaped.net.d_out, shaped.net.d_out_given, grid);
  shaped.data.n = data.train.n_global;
  shaped.data.d = data.d;
  shaped.net.d_out = data.d_out;
  const double mean_sq = mean_square_norm(data, grid);
  std::string sigma_source, init_source;
  resolve_data_defaults(shaped.net, shaped.data, mean_sq, sigma_source, init_source);
  const bool ntk_on = shaped.ntk_every > 0 || shaped.net.lr.automatic;
  const std::vector<std::int64_t> ntk_ids =
      ntk_on ? ntk_sample_ids(shaped.ntk_samples, shaped.data.data_seed, data.train_ids_global,
                              data.d_out)
             : std::vector<std::int64_t>{};
  check_memory(
      shaped.net, ntk_on, grid, data.d, data.d_out, std::max(data.train.size(), data.test.size()),
      static_cast<std::int64_t>(ntk_ids.size()), threads,
      sample_bytes(data.train.size() + data.test.size(), data.d, data.d_out, shaped.net.precision),
      shaped.data.is_csv() ? "--data " + shaped.data.csv : cat("--n ", shaped.data.n));
  const Execution exec = resolve_execution(shaped.net, grid, data, threads, sizeof(T));
  Trainer<T> tr(shaped.net, grid, data, threads, exec);
  std::vector<T> W0 = ntk_on ? tr.params().W : std::vector<T>{};
  if (ntk_on) tr.set_ntk_samples(ntk_ids);

  // Resume: parameters, optimiser state and W_0 from the newest complete checkpoint.
  RunResult result;
  nlohmann::json resumed;
  const auto ckpt = run.resume_point();
  if (ckpt) {
    resumed = restore_network(grid, *ckpt, tr, shaped.net, ntk_on ? &W0 : nullptr);
    result.first_step = resumed["step"].get<std::int64_t>();
    result.initial_loss = resumed.value("initial_loss", 0.0);
    // The network came from the checkpoint: defaults chosen from the data are the interrupted
    // run's when they differ (another grid's rounding, or a checkpoint written before these
    // defaults), so that the resume is not refused for a choice that no longer matters.
    const nlohmann::json& was = resumed.contains("config") ? resumed["config"] : nlohmann::json();
    if (shaped.net.sigma_default && was.contains("sigma") &&
        was["sigma"].get<double>() != shaped.net.sigma) {
      shaped.net.sigma = was["sigma"].get<double>();
      sigma_source = "resumed from the checkpoint";
    }
    if (shaped.net.init_default && was.contains("init") &&
        was["init"].get<std::string>() != model::to_string(shaped.net.init)) {
      shaped.net.init = model::parse_init(was["init"].get<std::string>());
      init_source = "resumed from the checkpoint";
    }
  }
  const std::int64_t s0 = result.first_step;
  NtkReference ntk0 = ntk_on ? ntk_reference(tr, W0, s0 > 0, ntk_ids.size()) : NtkReference{};
  const auto [lr_value, lr_source] =
      learning_rate(shaped, resumed, ntk0, ntk_ids.size(), data, grid);
  const bool mini_batches = shaped.batch > 0 && shaped.batch < data.train.n_global;
  const std::string linear_off =
      ntk_on ? linearised_loss_off(shaped, data, ntk_ids.size(), mini_batches, lr_source)
             : "no NTK (neither --ntk-every nor --lr auto)";
  ntk0.linearised = linear_off.empty();
  if (ntk_on) ntk0.summary["linear_loss"] = ntk0.linearised ? "logged" : "off: " + linear_off;
  const ScheduleSpec& sched = shaped.net.schedule;
  WIDEMAX_CHECK_ALL_HINT(sched.kind != ScheduleKind::kCosine || sched.lr_min <= lr_value,
                         "give a --lr-min below the learning rate, or a larger --lr", "--lr-min ",
                         sched.lr_min, " is above the learning rate ", lr_value, " (", lr_source,
                         "): --lr-schedule cosine would raise the rate instead of lowering it");
  const Plan plan{shaped,   exec,      grid.name(),  threads,
                  lr_value, lr_source, sigma_source, init_source};
  if (ckpt) {
    // Every rank compares the manifest it read with the same plan: they agree on the verdict.
    comm::agree_on_errors(grid.world(), [&] {
      run.check_resume(resumed, *ckpt, to_json(plan), kMayChangeOnResume);
      run.resumed(*ckpt, resumed, s0);
    });
  }
  run.write_config(to_json(plan), input_paths(plan.request));
  // The columns and statistics `widemax predict` needs to read new rows as these were read.
  if (plan.request.data.is_csv())
    run.write_json("standardization.json", data::to_json(data.standardization));
  // From here on the loop reads the plan.
  const Config& c = plan.request;
  const double lr = plan.lr;
  result.lr = lr;
  log::info(cat(
      "widemax train: ", model::to_string(c.net.activation), " m=", c.net.width, " n=", c.data.n,
      " d=", c.data.d, " d_out=", c.net.d_out, " ", to_string(c.net.precision), " lr=", lr,
      c.net.lr.automatic ? " (--lr auto)"
      : c.net.lr.given() ? ""
                         : " (default)",
      " grid ", grid.name(), " block=", tr.block(), tr.logit_cache_on() ? " logit-cache" : "",
      run.writes() ? " -> " + run.path().string() : std::string()));

  // Mini-batches: the same global batches on every grid (batches.hpp).
  const bool mini = c.batch > 0 && c.batch < data.train.n_global;
  WIDEMAX_CHECK_ALL_HINT(
      !mini || c.batch >= grid.p_data(), "use a larger --batch or fewer grid rows", "--batch ",
      c.batch, " is smaller than the ", grid.p_data(), " grid rows (P_data) that split each batch");
  std::unique_ptr<BatchSchedule> batches =
      mini ? std::make_unique<BatchSchedule>(data.train_ids_global, c.batch, c.data.data_seed)
           : nullptr;
  const std::int64_t neuron_samples = (mini ? c.batch : data.train.n_global) * c.net.width;
  auto checkpoint = [&](std::int64_t step) {
    save_network(run, grid, step, tr, c.net,
                 {{"lr", lr},
                  {"initial_loss", result.initial_loss},
                  {"config", to_json(plan)},
                  {"data_order",
                   {{"data_seed", c.data.data_seed},
                    {"batch", c.batch},
                    {"note", "batches are a pure function of (data seed, step)"}}}},
                 ntk_on ? &W0 : nullptr);
  };
  std::vector<double> step_times;
  const double comm_before = tr.comm_seconds();
  // A run that cannot train says so once (rank 0): a saturated hidden softmax at the start, or
  // else a loss that has not moved over the first logged interval.
  bool warned = false;
  if (s0 == 0 && tr.shape().activation == model::Activation::kSoftmax)
    warned = warn_if_saturated(tr.softmax_spread(), c, mean_sq, plan, grid.world().rank() == 0);
  double first_logged = std::numeric_limits<double>::quiet_NaN();
  std::int64_t first_logged_step = 0;
  bool moved_checked = false;
  const double n_train = static_cast<double>(data.train.n_global);
  double initial_test_mean = std::numeric_limits<double>::quiet_NaN();
  run::ProgressFigures figures;
  figures.batch = mini;
  Stopwatch train_clock;
  auto log_step = [&](std::int64_t step, double loss, bool full) {
    nlohmann::json j = step_metrics(tr, c, data, ntk0, W0, lr, step, loss, full);
    j["elapsed_s"] = train_clock.seconds();
    run.append_metrics(j);
    figures.test_mean_loss = j.value("test_mean_loss", figures.test_mean_loss);
    figures.train_accuracy = j.value("train_accuracy", figures.train_accuracy);
    figures.test_accuracy = j.value("test_accuracy", figures.test_accuracy);
    const double full_loss = j["loss"].get<double>();
    if (std::isnan(first_logged)) {
      first_logged = full_loss, first_logged_step = step;
    } else if (!moved_checked) {
      moved_checked = true;
      if (!warned)
        warned = warn_if_stalled(first_logged, first_logged_step, full_loss, step, c, plan,
                                 grid.world().rank() == 0);
    }
    return j;
  };
  // A checkpoint of the state at step s is written during step s, once its forward pass has shown
  // a finite loss and gradient: so the newest checkpoint on disk is always one to resume from,
  // also after a divergence.
  for (std::int64_t step = s0; step < c.steps; ++step) {
    Stopwatch sw;
    if (mini) tr.select_batch(batches->batch(step));
    const double loss = tr.compute_gradient();
    run::check_loss(loss, step, kDivergedHint);
    const int signal = run.agree(step, std::isfinite(tr.local_grad_sq()), kDivergedHint);
    if (run.checkpoint_due(step, s0) || signal) checkpoint(step);
    if (signal) {
      run.preempted(signal, step);
      result.preempted = true;
      return result;
    }
    const bool logged = step == 0 || (c.log_every > 0 && step % c.log_every == 0) ||
                        (c.ntk_every > 0 && step % c.ntk_every == 0);
    if (logged) {
      const nlohmann::json j = log_step(step, loss, !mini);
      if (step == 0) {
        result.initial_loss = j["loss"].get<double>();  // over all training samples
        initial_test_mean = j.value("test_mean_loss", initial_test_mean);
      }
    }
    tr.apply_update(scheduled_lr(c.net.schedule, lr, step, c.steps), step);
    step_times.push_back(sw.seconds());
    result.losses.push_back(loss);
    figures.train_mean_loss = loss / (mini ? static_cast<double>(c.batch) : n_train);
    run.progress().update(step + 1, figures,
                          static_cast<double>(neuron_samples) / step_times.back(), logged);
  }
  const double train_s = train_clock.seconds();
  const double comm_s = tr.comm_seconds() - comm_before;

  // The final state over all training samples (with its gradient, for the final grad_norm).
  tr.use_full_batch();
  const double final_loss = tr.compute_gradient();
  run::check_loss(final_loss, c.steps, kDivergedHint);
  if (c.run.checkpoint_every > 0 && c.steps > s0) checkpoint(c.steps);
  const nlohmann::json final_metrics = log_step(c.steps, final_loss, true);
  result.losses.push_back(final_loss);
  if (c.steps == 0) {
    result.initial_loss = final_loss;
    initial_test_mean = final_metrics.value("test_mean_loss", initial_test_mean);
  }
  run.progress().finish();
  if (c.run.save) save_parameters(run, grid, tr);

  nlohmann::json s = {{"initial_loss", result.initial_loss},
                      {"final_loss", final_loss},
                      {"initial_mean_loss", result.initial_loss / n_train},
                      {"final_mean_loss", final_loss / n_train},
                      {"loss_reduction", result.initial_loss / final_loss},
                      {"steps", c.steps},
                      {"lr", lr},
                      {"optimizer", to_string(c.net.optimizer.kind)},
                      {"batch", mini ? c.batch : data.train.n_global},
                      {"epochs", mini ? static_cast<double>(c.steps) / batches->batches_per_epoch()
                                      : static_cast<double>(c.steps)},
                      {"n_train", data.train.n_global},
                      {"n_test", data.test.n_global},
                      {"n", c.data.n}};
  s.update(describe(tr, c.net, grid, threads));
  s.update(run::timings(wall.seconds(), train_s, comm_s, step_times, "neuron_samples_per_s",
                        static_cast<double>(neuron_samples)));
  // The step against the hardware: the two GEMMs' 4 n d m FLOPs at the FMA peak of the job.
  s["hardware"] = run::hardware_rate(
      grid.world(), threads, c.net.precision == Precision::kFp32,
      4.0 * static_cast<double>(neuron_samples) * static_cast<double>(data.d), median(step_times));
  if (ntk_on) s["ntk"] = ntk0.summary;
  if (!std::isnan(initial_test_mean)) s["initial_test_mean_loss"] = initial_test_mean;
  for (const char* k : {"train_accuracy", "test_loss", "test_mean_loss", "test_accuracy",
                        "ntk_lambda_min", "ntk_lambda_max", "ntk_drift", "w_drift", "w_drift_max",
                        "w_drift_q50", "w_drift_q90", "w_drift_q99", "entropy", "linear_loss"})
    if (final_metrics.contains(k)) s[k] = final_metrics[k];
  result.summary = run.finish(std::move(s));
  if (run.writes()) {
    result.run_dir = run.path().string();
    log::info(final_line(result.summary, result.run_dir));
  }
  return result;
}

}  // namespace

RunResult run_training(const Config& c, const comm::Grid& grid, int threads,
                       const nlohmann::json& runtime, bool write_outputs) {
  validate(c);
  if (c.net.precision == Precision::kFp32)
    return run_impl<float>(c, grid, threads, runtime, write_outputs);
  return run_impl<double>(c, grid, threads, runtime, write_outputs);
}

}  // namespace widemax::train
