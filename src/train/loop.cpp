// The training loop. See loop.hpp. Everything rank-dependent is decided before the loop; inside it
// every rank calls the same collectives in the same order (trainer.hpp lists them).
#include "widemax/train/loop.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "widemax/comm/npy_io.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/train/progress.hpp"
#include "widemax/train/run_dir.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

std::string hostname() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

template <class T>
RunResult run_impl(const Config& c_in, const comm::Grid& grid, int threads,
                   const nlohmann::json& runtime, bool write_outputs) {
  Config c = c_in;
  const bool rank0 = grid.world().rank() == 0;
  Stopwatch wall;

  // The run directory first, so that an unwritable --out fails before any work.
  std::unique_ptr<RunDir> dir;
  if (write_outputs) {
    std::string out = c.out.empty() ? default_run_dir("train") : c.out;
    grid.world().broadcast(out, 0);
    c.out = out;
    dir = std::make_unique<RunDir>(out, rank0);
  }

  const LocalData data = load_data(c, grid);
  c.n = data.n_global;
  c.d = data.d;
  c.d_out = data.d_out;
  RunResult result;
  result.lr = c.lr > 0 ? c.lr : default_lr(c, data, grid);
  const double lr = result.lr;

  Trainer<T> tr(c, grid, data, threads);
  const std::int64_t neuron_samples = c.n * c.width;
  if (dir) {
    nlohmann::json cfg = to_json(c);
    cfg["lr"] = lr;
    cfg["lr_source"] = c_in.lr > 0 ? "--lr" : "default: 1 / estimated trace of the NTK at init";
    cfg["block_resolved"] = tr.block();
    cfg["grid_resolved"] = std::to_string(grid.p_data()) + "x" + std::to_string(grid.p_width());
    cfg["threads_resolved"] = threads;
    dir->write_json("config.json", cfg);
  }
  log::info(cat("widemax train: ", c.activation, " m=", c.width, " n=", c.n, " d=", c.d,
                " d_out=", c.d_out, " ", c.precision, " lr=", lr, c_in.lr > 0 ? "" : " (default)",
                " grid ", grid.p_data(), "x", grid.p_width(), " block=", tr.block(),
                dir ? " -> " + dir->path().string() : std::string()));

  Progress progress(write_outputs && c.progress && rank0, c.steps);
  std::vector<double> step_times;
  step_times.reserve(static_cast<std::size_t>(c.steps));
  const double comm_before = tr.comm_seconds();
  Stopwatch train_clock;

  auto log_metrics = [&](std::int64_t step, double loss) {
    const double gn = tr.grad_norm();
    if (dir)
      dir->append_metrics({{"step", step},
                           {"loss", loss},
                           {"mean_loss", loss / static_cast<double>(c.n)},
                           {"grad_norm", gn},
                           {"lr", lr},
                           {"elapsed_s", train_clock.seconds()}});
  };
  auto check_finite = [&](double loss, std::int64_t step) {
    WIDEMAX_CHECK_HINT(std::isfinite(loss), "lower --lr (or check the data's scale)",
                       "training diverged: the loss is ", loss, " at step ", step);
  };

  for (std::int64_t step = 0; step < c.steps; ++step) {
    Stopwatch sw;
    const double loss = tr.compute_gradient();
    check_finite(loss, step);
    const bool logged = step == 0 || (c.log_every > 0 && step % c.log_every == 0);
    if (logged) log_metrics(step, loss);
    tr.apply_update(lr);
    step_times.push_back(sw.seconds());
    result.losses.push_back(loss);
    progress.update(step + 1, loss, static_cast<double>(neuron_samples) / step_times.back(),
                    logged);
  }
  const double train_s = train_clock.seconds();
  const double comm_s = tr.comm_seconds() - comm_before;
  const double final_loss = tr.compute_gradient();  // gradient too, for the final grad_norm
  check_finite(final_loss, c.steps);
  log_metrics(c.steps, final_loss);
  result.losses.push_back(final_loss);
  progress.finish();

  if (dir && c.save) {
    const bool writes = grid.data_index() == 0;  // grid columns hold copies of the same neurons
    const auto& p = tr.params();
    const std::int64_t rows = writes ? p.neurons.size() : 0;
    comm::write_npy_rows(grid.world(), dir->path() / "W.npy", p.W.data(), p.neurons.begin, rows,
                         c.width, c.d);
    comm::write_npy_rows(grid.world(), dir->path() / "A.npy", p.A.data(), p.neurons.begin, rows,
                         c.width, c.d_out);
  }

  const std::vector<std::string> hosts = grid.world().allgather(hostname());
  const double med = median(step_times);
  const double compute_s = train_s - comm_s;
  nlohmann::json s = {
      {"initial_loss", result.losses.front()},
      {"final_loss", final_loss},
      {"final_mean_loss", final_loss / static_cast<double>(c.n)},
      {"loss_reduction", result.losses.front() / final_loss},
      {"steps", c.steps},
      {"lr", lr},
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
      {"width", c.width},
      {"n", c.n},
      {"d", c.d},
      {"d_out", c.d_out},
      {"activation", c.activation},
      {"precision", c.precision},
      {"block", tr.block()},
      {"workspace_bytes_per_rank", tr.workspace_bytes()},
      {"hosts", hosts},
      {"runtime", runtime}};
  if (dir) {
    dir->write_json("summary.json", s);
    result.run_dir = dir->path().string();
    log::info(cat("final loss ", final_loss, " (", result.losses.front() / final_loss,
                  "x lower than at step 0), ", med * 1e3, " ms/step median, run directory ",
                  dir->path().string()));
  }
  result.summary = std::move(s);
  return result;
}

}  // namespace

RunResult run_training(const Config& c, const comm::Grid& grid, int threads,
                       const nlohmann::json& runtime, bool write_outputs) {
  validate(c);
  if (c.precision == "fp32") return run_impl<float>(c, grid, threads, runtime, write_outputs);
  return run_impl<double>(c, grid, threads, runtime, write_outputs);
}

}  // namespace widemax::train
