// The training loop. See loop.hpp. Everything rank-dependent is decided before the loop; inside it
// every rank calls the same collectives in the same order (trainer.hpp lists them).
#include "widemax/train/loop.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "widemax/comm/npy_io.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/signals.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/system.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/ntk/ntk.hpp"
#include "widemax/train/batches.hpp"
#include "widemax/train/checkpoint.hpp"
#include "widemax/train/optimizer.hpp"
#include "widemax/train/progress.hpp"
#include "widemax/train/run_dir.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

namespace {

template <class T>
RunResult run_impl(const Config& c_in, const comm::Grid& grid, int threads,
                   const nlohmann::json& runtime, bool write_outputs) {
  Config c = c_in;
  const bool rank0 = grid.world().rank() == 0;
  Stopwatch wall;

  // The run directory first, so that an unwritable --out fails before any work.
  std::unique_ptr<RunDir> dir;
  if (write_outputs) {
    dir = open_run_dir(c.run.out, "train", grid.world());
    c.run.out = dir->path().string();
  }

  const LocalData data = load_data(c.data, c.net.d_out, c.net.d_out_given, grid);
  c.data.n = data.train.n_global;
  c.data.d = data.d;
  c.net.d_out = data.d_out;
  RunResult result;
  const bool ntk_on = c.ntk_every > 0 || c.net.lr.automatic;
  const std::vector<std::int64_t> ntk_ids =
      ntk_on ? ntk_sample_ids(c.ntk_samples, c.data.data_seed, data.train_ids_global, data.d_out)
             : std::vector<std::int64_t>{};
  check_memory(c.net, ntk_on, grid, data.d, data.d_out,
               std::max(data.train.size(), data.test.size()),
               static_cast<std::int64_t>(ntk_ids.size()), threads);

  Trainer<T> tr(c.net, grid, data, threads);
  std::vector<T> W0 = ntk_on ? tr.params().W : std::vector<T>{};
  if (ntk_on) tr.set_ntk_samples(ntk_ids);

  // Resume: parameters, optimiser state and W_0 from the newest complete checkpoint.
  std::int64_t s0 = 0;
  nlohmann::json resumed;
  if (c.run.resume.requested()) {
    const bool resume_auto = c.run.resume.mode == run::Resume::Mode::kAuto;
    const std::string where = resume_auto ? c.run.out : c.run.resume.path;
    const auto ckpt = find_checkpoint(where);
    WIDEMAX_CHECK_HINT(ckpt || resume_auto, "give a run directory or a checkpoint directory",
                       "--resume: no complete checkpoint in '", where, "'");
    if (ckpt) {
      resumed = read_checkpoint(grid, *ckpt, tr, c.net, ntk_on ? &W0 : nullptr);
      s0 = resumed["step"].get<std::int64_t>();
      log::info(cat("resuming from ", ckpt->string(), " at step ", s0, " (written by ",
                    resumed.value("ranks", 0), " ranks on grid ", resumed.value("grid", "?"), ")"));
    } else {
      log::info(cat("--resume auto: no checkpoint in ", where, " yet: starting at step 0"));
    }
  }
  result.first_step = s0;

  std::vector<double> H0;
  double h0_norm = 0;
  nlohmann::json ntk0;
  if (ntk_on) {
    if (s0 > 0) std::swap(tr.params_mut().W, W0);  // H_0 is the NTK at W_0
    H0 = tr.ntk();
    if (s0 > 0) std::swap(tr.params_mut().W, W0);
    h0_norm = ntk::frobenius(H0);
    const auto ev = ntk::symmetric_eigenvalues(H0, tr.ntk_size());
    ntk0 = {{"ntk_samples", ntk_ids.size()},
            {"lambda_min_0", ev.front()},
            {"lambda_max_0", ev.back()},
            {"trace_0", std::accumulate(ev.begin(), ev.end(), 0.0)}};
  }
  if (!resumed.empty()) {
    result.lr = resumed.value("lr", 0.0);  // exactly the rate of the interrupted run
    result.initial_loss = resumed.value("initial_loss", 0.0);
  } else if (c.net.lr.automatic) {
    // lambda_max grows with the number of samples (its top eigenvector is nearly constant), so
    // a subset's value is scaled to the training set.
    const double scale =
        static_cast<double>(data.train.n_global) / static_cast<double>(ntk_ids.size());
    const double lmax = ntk0["lambda_max_0"].get<double>() * scale;
    result.lr = c.net.lr.auto_c / lmax;
    log::info(cat("--lr auto: lr = ", c.net.lr.auto_c, " / lambda_max(H_0) = ", c.net.lr.auto_c,
                  " / ", lmax, " = ", result.lr,
                  scale != 1 ? cat(" (lambda_max of ", ntk_ids.size(), " samples x ", scale, ")")
                             : std::string()));
  } else {
    result.lr = c.net.lr.given() ? c.net.lr.value : default_lr(c.net, c.batch, data, grid);
  }
  const double lr = result.lr;
  const std::int64_t neuron_samples =
      (c.batch > 0 ? std::min(c.batch, data.train.n_global) : data.train.n_global) * c.net.width;
  if (dir) {
    nlohmann::json cfg = to_json(c);
    cfg["lr"] = lr;
    cfg["lr_source"] = c.net.lr.automatic    ? "--lr auto: c / lambda_max(H_0)"
                       : c_in.net.lr.given() ? "--lr"
                       : c.net.optimizer.kind == OptimizerKind::kAdam
                           ? "default for adam"
                           : "default: 1 / estimated trace of the NTK at init";
    cfg["block_resolved"] = tr.block();
    cfg["logit_cache_resolved"] = tr.logit_cache_on() ? "on" : "off";
    cfg["grid_resolved"] = std::to_string(grid.p_data()) + "x" + std::to_string(grid.p_width());
    cfg["threads_resolved"] = threads;
    dir->write_json("config.json", cfg);
  }
  log::info(cat("widemax train: ", model::to_string(c.net.activation), " m=", c.net.width,
                " n=", c.data.n, " d=", c.data.d, " d_out=", c.net.d_out, " ",
                to_string(c.net.precision), " lr=", lr,
                c.net.lr.automatic    ? " (--lr auto)"
                : c_in.net.lr.given() ? ""
                                      : " (default)",
                " grid ", grid.p_data(), "x", grid.p_width(), " block=", tr.block(),
                tr.logit_cache_on() ? " logit-cache" : "",
                dir ? " -> " + dir->path().string() : std::string()));

  if (dir && s0 > 0) dir->resume_metrics(s0);
  auto checkpoint = [&](std::int64_t step) {
    if (!dir) return;
    const auto path = write_checkpoint(grid, dir->path(), step, tr, c,
                                       {{"lr", lr}, {"initial_loss", result.initial_loss}},
                                       ntk_on ? &W0 : nullptr, c.run.keep_checkpoints);
    log::info(cat("checkpoint: ", path.string()));
  };
  Progress progress(write_outputs && c.run.progress && rank0, c.steps);
  std::vector<double> step_times;
  step_times.reserve(static_cast<std::size_t>(c.steps));
  result.losses.reserve(static_cast<std::size_t>(c.steps + 1));
  const double comm_before = tr.comm_seconds();
  Stopwatch train_clock;

  // Mini-batches: the same global batches on every grid (batches.hpp).
  const bool mini = c.batch > 0 && c.batch < data.train.n_global;
  std::unique_ptr<BatchSchedule> batches;
  if (mini) {
    WIDEMAX_CHECK_HINT(c.batch >= grid.p_data(), "use a larger --batch or fewer grid rows",
                       "--batch ", c.batch, " is smaller than the ", grid.p_data(),
                       " grid rows (P_data) that split each batch");
    batches = std::make_unique<BatchSchedule>(data.train_ids_global, c.batch, c.data.data_seed);
  }
  const bool has_test = data.test.n_global > 0;
  const bool classes = c.data.classes > 0;
  Evaluation last_test;

  // Every rank runs this at the same steps: it issues collectives.
  auto log_metrics = [&](std::int64_t step, double step_loss, bool full) {
    const double gn = tr.grad_norm();
    nlohmann::json j = {
        {"step", step}, {"grad_norm", gn}, {"lr", scheduled_lr(c.net.schedule, lr, step, c.steps)}};
    Evaluation train_eval{step_loss, 0, data.train.n_global};
    if (!full || classes) train_eval = tr.evaluate_train();
    j["loss"] = train_eval.loss;
    j["mean_loss"] = train_eval.mean_loss();
    if (!full) j["batch_loss"] = step_loss;
    if (classes) j["train_accuracy"] = train_eval.accuracy();
    if (has_test) {
      last_test = tr.evaluate_test();
      j["test_loss"] = last_test.loss;
      j["test_mean_loss"] = last_test.mean_loss();
      if (classes) j["test_accuracy"] = last_test.accuracy();
    }
    const bool ntk_step = c.ntk_every > 0 && (step % c.ntk_every == 0 || step == c.steps);
    if (ntk_step) {
      const std::vector<double> H = step == 0 ? H0 : tr.ntk();
      const auto ev = ntk::symmetric_eigenvalues(H, tr.ntk_size());
      j["ntk_lambda_min"] = ev.front();
      j["ntk_lambda_max"] = ev.back();
      j["ntk_drift"] = ntk::frobenius_diff(H, H0) / h0_norm;
      const auto [w_fro, w_max] = tr.weight_drift(W0);
      j["w_drift"] = w_fro;
      j["w_drift_max"] = w_max;
      if (tr.shape().activation == model::Activation::kSoftmax) j["entropy"] = tr.mean_entropy();
    }
    j["elapsed_s"] = train_clock.seconds();
    if (dir) dir->append_metrics(j);
    return j;
  };
  auto check_finite = [&](double loss, std::int64_t step) {
    WIDEMAX_CHECK_HINT(std::isfinite(loss), "lower --lr (or check the data's scale)",
                       "training diverged: the loss is ", loss, " at step ", step);
  };

  // A checkpoint of the state at step s is written during step s, once its forward pass has shown
  // a finite loss and gradient: so the newest checkpoint on disk is always one to resume from,
  // also after a divergence.
  for (std::int64_t step = s0; step < c.steps; ++step) {
    Stopwatch sw;
    if (mini) tr.select_batch(batches->batch(step));
    const double loss = tr.compute_gradient();
    check_finite(loss, step);
    // Every rank agrees, once per step, on a preemption signal (which may reach only some ranks)
    // and on a non-finite gradient (which may appear in only some shards).
    int flags[2] = {preemption_signal(), std::isfinite(tr.local_grad_sq()) ? 0 : 1};
    grid.world().allreduce_max(std::span<int>(flags));
    WIDEMAX_CHECK_HINT(!flags[1], "lower --lr (or check the data's scale)",
                       "training diverged: the gradient has NaN or Inf entries at step ", step);
    const bool due = c.run.checkpoint_every > 0 && step > s0 && step % c.run.checkpoint_every == 0;
    if (due || flags[0]) {
      WIDEMAX_CHECK_HINT(dir, "give --out", "preempted at step ", step,
                         " but there is no run directory to checkpoint into");
      checkpoint(step);
    }
    if (flags[0]) {
      progress.finish();
      log::info(cat("preempted by signal ", flags[0], " (on at least one rank) at step ", step,
                    ": checkpoint written; continue with --resume auto (exit status ",
                    kExitPreempted, ")"));
      result.preempted = true;
      return result;
    }
    const bool logged = step == 0 || (c.log_every > 0 && step % c.log_every == 0) ||
                        (c.ntk_every > 0 && step % c.ntk_every == 0);
    if (logged) {
      const nlohmann::json j = log_metrics(step, loss, !mini);
      if (step == 0) result.initial_loss = j["loss"].get<double>();  // over all training samples
    }
    tr.apply_update(scheduled_lr(c.net.schedule, lr, step, c.steps), step);
    step_times.push_back(sw.seconds());
    result.losses.push_back(loss);
    progress.update(step + 1, loss, static_cast<double>(neuron_samples) / step_times.back(),
                    logged);
  }
  const double train_s = train_clock.seconds();
  const double comm_s = tr.comm_seconds() - comm_before;
  tr.use_full_batch();
  const double final_loss = tr.compute_gradient();  // gradient too, for the final grad_norm
  check_finite(final_loss, c.steps);
  if (c.run.checkpoint_every > 0 && c.steps > s0) checkpoint(c.steps);
  const nlohmann::json final_metrics = log_metrics(c.steps, final_loss, true);
  result.losses.push_back(final_loss);
  if (c.steps == 0) result.initial_loss = final_loss;
  progress.finish();

  if (dir && c.run.save) {
    const bool writes = grid.data_index() == 0;  // grid columns hold copies of the same neurons
    const auto& p = tr.params();
    const std::int64_t rows = writes ? p.neurons.size() : 0;
    comm::write_npy_rows(grid.world(), dir->path() / "W.npy", p.W.data(), p.neurons.begin, rows,
                         c.net.width, c.data.d);
    comm::write_npy_rows(grid.world(), dir->path() / "A.npy", p.A.data(), p.neurons.begin, rows,
                         c.net.width, c.net.d_out);
  }

  const std::vector<std::string> hosts = grid.world().allgather(hostname());
  const double med = median(step_times);
  const double compute_s = train_s - comm_s;
  nlohmann::json s = {
      {"initial_loss", result.initial_loss},
      {"final_loss", final_loss},
      {"final_mean_loss", final_loss / static_cast<double>(c.data.n)},
      {"loss_reduction", result.initial_loss / final_loss},
      {"steps", c.steps},
      {"lr", lr},
      {"optimizer", to_string(c.net.optimizer.kind)},
      {"batch", c.batch > 0 ? std::min(c.batch, data.train.n_global) : data.train.n_global},
      {"epochs", mini ? static_cast<double>(c.steps) / batches->batches_per_epoch()
                      : static_cast<double>(c.steps)},
      {"n_train", data.train.n_global},
      {"n_test", data.test.n_global},
      {"wall_s", wall.seconds()},
      {"train_s", train_s},
      {"compute_s", compute_s},
      {"comm_s", comm_s},
      {"comm_fraction", train_s > 0 ? comm_s / train_s : 0.0},
      {"step_time_median_s", med},
      {"neuron_samples_per_s", med > 0 ? static_cast<double>(neuron_samples) / med : 0.0},
      {"ranks", grid.world().size()},
      {"grid", std::to_string(grid.p_data()) + "x" + std::to_string(grid.p_width())},
      {"threads", threads},
      {"width", c.net.width},
      {"n", c.data.n},
      {"d", c.data.d},
      {"d_out", c.net.d_out},
      {"activation", model::to_string(c.net.activation)},
      {"precision", to_string(c.net.precision)},
      {"block", tr.block()},
      {"logit_cache", tr.logit_cache_on()},
      {"workspace_bytes_per_rank", tr.workspace_bytes()},
      {"hosts", hosts},
      {"runtime", runtime}};
  if (ntk_on) s["ntk"] = ntk0;
  // Under Slurm: which job (and array task) produced this run, whatever --out was.
  nlohmann::json slurm;
  for (const char* k :
       {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_NODELIST",
        "SLURM_NTASKS", "SLURM_JOB_PARTITION", "SLURM_RESTART_COUNT"})
    if (const char* v = std::getenv(k)) slurm[k] = v;
  if (!slurm.empty()) s["slurm"] = slurm;
  for (const char* k :
       {"train_accuracy", "test_loss", "test_mean_loss", "test_accuracy", "ntk_lambda_min",
        "ntk_lambda_max", "ntk_drift", "w_drift", "w_drift_max", "entropy"})
    if (final_metrics.contains(k)) s[k] = final_metrics[k];
  if (dir) {
    dir->write_json("summary.json", s);
    result.run_dir = dir->path().string();
    log::info(cat("final loss ", final_loss, " (", result.initial_loss / final_loss,
                  "x lower than at step 0), ", med * 1e3, " ms/step median, run directory ",
                  dir->path().string()));
  }
  result.summary = std::move(s);
  return result;
}

}  // namespace

std::vector<std::int64_t> ntk_sample_ids(std::int64_t ntk_samples, std::uint64_t data_seed,
                                         const std::vector<std::int64_t>& train_ids,
                                         std::int64_t d_out) {
  const auto n = static_cast<std::int64_t>(train_ids.size());
  WIDEMAX_CHECK_HINT(ntk_samples <= n, "choose at most the number of training samples",
                     "--ntk-samples ", ntk_samples, " is larger than the ", n, " training samples");
  std::int64_t k = ntk_samples;
  if (k == 0) k = n * d_out <= 1024 ? n : std::max<std::int64_t>(1, 1024 / d_out);
  if (k == n) return train_ids;
  const auto perm = epoch_permutation(n, data_seed, -1);
  std::vector<std::int64_t> ids;
  for (std::int64_t q = 0; q < k; ++q) ids.push_back(train_ids[perm[q]]);
  std::sort(ids.begin(), ids.end());
  return ids;
}

RunResult run_training(const Config& c, const comm::Grid& grid, int threads,
                       const nlohmann::json& runtime, bool write_outputs) {
  validate(c);
  if (c.net.precision == Precision::kFp32)
    return run_impl<float>(c, grid, threads, runtime, write_outputs);
  return run_impl<double>(c, grid, threads, runtime, write_outputs);
}

}  // namespace widemax::train
