// `widemax diffusion`. See run.hpp. Everything rank-dependent is decided before the loop. Inside it
// every rank issues the same collectives in the same order: the trainer's step, its forward passes
// on the held-out rows and in the samplers (the merge all-reduce on the row communicator), the
// column sums of the held-out error and of the samples' gather, and the agreement on a finite
// gradient.
#include "widemax/diffusion/run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "widemax/comm/npy_io.hpp"
#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/system.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/data/dataset.hpp"
#include "widemax/diffusion/dsm.hpp"
#include "widemax/diffusion/metrics.hpp"
#include "widemax/diffusion/mixture.hpp"
#include "widemax/diffusion/sampler.hpp"
#include "widemax/diffusion/streams.hpp"
#include "widemax/train/progress.hpp"
#include "widemax/train/run_dir.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::diffusion {

namespace {

// Adam's learning rate when --lr is not given: measured on the ring of 8 Gaussians at widths
// 1024 to 16384 (README, "Score estimation").
constexpr double kDefaultAdamLr = 1e-2;

std::string csv_text(const std::vector<double>& X, std::int64_t d,
                     const std::vector<std::string>& header) {
  std::ostringstream os;
  os.precision(17);
  for (std::size_t j = 0; j < header.size(); ++j) os << (j ? "," : "") << header[j];
  os << "\n";
  const std::int64_t n = static_cast<std::int64_t>(X.size()) / d;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) os << (j ? "," : "") << X[i * d + j];
    os << "\n";
  }
  return os.str();
}

std::vector<std::string> coord_names(const std::string& prefix, std::int64_t d) {
  std::vector<std::string> v;
  for (std::int64_t j = 0; j < d; ++j) v.push_back(prefix + std::to_string(j));
  return v;
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

struct ModeStats {
  std::vector<double> fractions;
  double max_error = 0;
  std::int64_t covered = 0;
};

// Nearest-mode fractions against the weights. A mode counts as covered when at least a quarter
// of its share of the samples lands nearest to it.
ModeStats mode_stats(const Mixture& mix, const std::vector<double>& X) {
  ModeStats m;
  m.fractions = mode_fractions(mix, X.data(), static_cast<std::int64_t>(X.size()) / mix.d);
  for (std::int64_t k = 0; k < mix.K; ++k) {
    m.max_error = std::max(m.max_error, std::abs(m.fractions[k] - mix.weights[k]));
    m.covered += m.fractions[k] >= 0.25 * mix.weights[k];
  }
  return m;
}

template <class T>
Result run_impl(const Config& c_in, const comm::Grid& grid, int threads,
                const nlohmann::json& runtime, bool write_outputs) {
  Config c = c_in;
  const bool rank0 = grid.world().rank() == 0;
  Stopwatch wall;

  // The run directory first, so that an unwritable --out fails before any work.
  std::unique_ptr<train::RunDir> dir;
  if (write_outputs) {
    dir = train::open_run_dir(c.run.out, "diffusion", grid.world());
    c.run.out = dir->path().string();
  }

  // The mixture (the reference, and the data unless --data is given) and the points of --data.
  // Every rank reads them whole: they are small, and every rank then refuses a bad file alike.
  const std::string spec = mixture_spec(c);
  std::optional<Mixture> mix;
  if (!spec.empty()) mix = load_mixture(spec, c.data_seed);
  std::vector<double> points;
  std::int64_t d = mix ? mix->d : 0;
  if (!c.data.empty()) {
    data::Dataset ds = data::read_csv(c.data, {});
    data::check_finite(ds.X, c.data);
    WIDEMAX_CHECK(!mix || ds.d == mix->d, "--data ", c.data, " has ", ds.d,
                  " columns, but --mixture ", spec, " is ", mix ? mix->d : 0, "-dimensional");
    d = ds.d;
    points = std::move(ds.X);
  }
  const Mixture* mixp = mix ? &*mix : nullptr;
  // The baseline is part of the model: the Gaussian fit of the training data.
  std::optional<Mixture> base;
  if (c.baseline == Baseline::kGaussian)
    base = points.empty() ? gaussian_fit(*mix) : gaussian_fit(points, d);
  const Mixture* basep = base ? &*base : nullptr;
  const TimeSampler times = make_time_sampler(c.t_min, c.t_max, c.time_sampling);
  const TimeFeatures features(c.time_features, c.t_max);
  const std::int64_t din = d + features.size();
  const DsmDraws train_draws(points.empty() ? mixp : nullptr, points.empty() ? nullptr : &points, d,
                             times, features, derive_seed(c.data_seed, kPurposeTrain), basep);
  const DsmDraws held_draws(mixp, mixp ? nullptr : &points, d, times, features,
                            derive_seed(c.data_seed, kPurposeHeldout), basep);

  // Grid row data_index() holds rows shard_range(n) of every step's n rows, and the same share of
  // the held-out rows and of the samples.
  for (const auto& [count, option] :
       {std::pair{c.n, "--n"}, std::pair{c.eval_n, "--eval-n"}, std::pair{c.samples, "--samples"}})
    WIDEMAX_CHECK_HINT(count >= grid.p_data(), "use fewer grid rows (--grid 1xP)", option, " ",
                       count, " is smaller than the ", grid.p_data(),
                       " grid rows that split the rows");
  const model::Range rows = model::shard_range(c.n, grid.p_data(), grid.data_index());
  train::LocalData data;
  data.d = din;
  data.d_out = d;
  data.train.n_global = c.n;
  for (std::int64_t q = rows.begin; q < rows.end; ++q) data.train.ids.push_back(q);
  data.train.X.resize(static_cast<std::size_t>(rows.size() * din));
  data.train.Y.resize(static_cast<std::size_t>(rows.size() * d));
  train_draws.fill(static_cast<std::uint64_t>(rows.begin), rows.size(), data.train.X.data(),
                   data.train.Y.data(), nullptr);
  c.net.d_out = d;
  train::check_memory(c.net, /*keeps_w0=*/false, grid, din, d, rows.size(), 0, threads);
  train::Trainer<T> tr(c.net, grid, data, threads);
  const double lr = c.net.lr.given() ? c.net.lr.value
                    : c.net.optimizer.kind == train::OptimizerKind::kAdam
                        ? kDefaultAdamLr
                        : train::default_lr(c.net, /*batch=*/0, data, grid);

  // Held-out rows, their true scores and their baseline scores, drawn once.
  const model::Range erows = model::shard_range(c.eval_n, grid.p_data(), grid.data_index());
  const std::int64_t ne = erows.size();
  std::vector<double> Xe(static_cast<std::size_t>(ne * din)), Ee(static_cast<std::size_t>(ne * d)),
      te(static_cast<std::size_t>(ne)), Se;
  held_draws.fill(static_cast<std::uint64_t>(erows.begin), ne, Xe.data(), Ee.data(), te.data());
  std::vector<double> xt(static_cast<std::size_t>(ne * d)), Sbe(xt.size(), 0.0);
  for (std::int64_t p = 0; p < ne; ++p) std::copy_n(Xe.begin() + p * din, d, xt.begin() + p * d);
  if (mix) {
    Se.resize(xt.size());
    score(*mix, xt.data(), te.data(), ne, Se.data());
  }
  if (base) score(*base, xt.data(), te.data(), ne, Sbe.data());
  const std::vector<T> XeT(Xe.begin(), Xe.end());
  std::vector<T> Fe(static_cast<std::size_t>(ne * d));
  auto evaluate = [&]() {
    tr.predict(XeT.data(), ne, Fe.data());
    ScoreError se(c.time_buckets, times);
    std::vector<double> s(static_cast<std::size_t>(d));
    for (std::int64_t p = 0; p < ne; ++p) {
      const double sig = ou_sigma(te[p]);
      double dsm = 0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double f = static_cast<double>(Fe[p * d + j]);
        s[j] = Sbe[p * d + j] - f / sig;
        dsm += (f - Ee[p * d + j]) * (f - Ee[p * d + j]);
      }
      se.add_dsm(dsm);
      if (mix) se.add(te[p], s.data(), Se.data() + p * d, d);
    }
    if (grid.p_data() > 1) grid.column().allreduce_sum(std::span<double>(se.sums()));
    return se;
  };

  if (dir) {
    nlohmann::json cfg = to_json(c);
    cfg["mixture_resolved"] = spec;
    cfg["lr"] = lr;
    cfg["input_dim"] = din;
    cfg["block_resolved"] = tr.block();
    cfg["grid_resolved"] = std::to_string(grid.p_data()) + "x" + std::to_string(grid.p_width());
    cfg["threads_resolved"] = threads;
    dir->write_json("config.json", cfg);
    if (mix) dir->write_json("mixture.json", mix->to_json());
    if (base) dir->write_json("baseline.json", base->to_json());
  }
  log::info(cat("widemax diffusion: ", spec.empty() ? "" : "mixture " + spec + " ",
                c.data.empty() ? "" : "data " + c.data + " ", "d=", d,
                mix ? cat(" K=", mix->K) : std::string(), " m=", c.net.width, " inputs ", din,
                " (x_t + ", c.time_features, "), baseline ", to_string(c.baseline), ", ", c.n,
                " rows/step, t ", to_string(c.time_sampling), " in [", c.t_min, ", ", c.t_max,
                "], ", train::to_string(c.net.optimizer.kind), " lr=", lr, " ",
                train::to_string(c.net.precision), " grid ", grid.p_data(), "x", grid.p_width(),
                dir ? " -> " + dir->path().string() : std::string()));

  Result result;
  Stopwatch train_clock;
  auto log_metrics = [&](std::int64_t step, double loss) {
    const double gn = tr.grad_norm();
    const ScoreError se = evaluate();
    nlohmann::json j = {{"step", step},
                        {"loss", loss},
                        {"mean_loss", loss / static_cast<double>(c.n)},
                        {"grad_norm", gn},
                        {"lr", train::scheduled_lr(c.net.schedule, lr, step, c.steps)},
                        {"heldout_dsm_loss", number_or_null(se.mean_dsm_loss())}};
    if (mix) {
      j["score_rel_error"] = number_or_null(se.rel_error());
      nlohmann::json by = nlohmann::json::array();
      for (int b = 0; b < se.buckets(); ++b) by.push_back(number_or_null(se.rel_error(b)));
      j["score_rel_error_by_t"] = by;
    }
    j["elapsed_s"] = train_clock.seconds();
    if (dir) dir->append_metrics(j);
    return std::pair{j, se};
  };
  auto check_finite = [&](double loss, std::int64_t step) {
    WIDEMAX_CHECK_HINT(std::isfinite(loss), "lower --lr", "training diverged: the loss is ", loss,
                       " at step ", step);
    int bad = std::isfinite(tr.local_grad_sq()) ? 0 : 1;
    bad = grid.world().allreduce_max(bad);
    WIDEMAX_CHECK_HINT(!bad, "lower --lr",
                       "training diverged: the gradient has NaN or Inf entries at step ", step);
  };
  // Fresh rows for `step`: rows step * n + shard of this grid row.
  std::vector<double> Xb(data.train.X.size()), Yb(data.train.Y.size());
  auto draw_rows = [&](std::int64_t step) {
    train_draws.fill(static_cast<std::uint64_t>(step * c.n + rows.begin), rows.size(), Xb.data(),
                     Yb.data(), nullptr);
    tr.replace_train_rows(Xb, Yb);
  };

  const std::int64_t steps = c.steps;
  train::Progress progress(write_outputs && c.run.progress && rank0, steps);
  std::vector<double> step_times;
  const double comm_before = tr.comm_seconds();
  nlohmann::json first_metrics;
  for (std::int64_t step = 0; step < steps; ++step) {
    Stopwatch sw;
    if (step > 0) draw_rows(step);  // step 0's rows are the trainer's initial ones
    const double loss = tr.compute_gradient();
    check_finite(loss, step);
    const bool logged = step == 0 || (c.log_every > 0 && step % c.log_every == 0);
    if (logged) {
      const auto logged_now = log_metrics(step, loss);
      if (step == 0) first_metrics = logged_now.first;
    }
    tr.apply_update(train::scheduled_lr(c.net.schedule, lr, step, steps), step);
    step_times.push_back(sw.seconds());
    result.losses.push_back(loss);
    progress.update(step + 1, loss / static_cast<double>(c.n),
                    static_cast<double>(c.n * c.net.width) / step_times.back(), logged);
  }
  const double train_s = train_clock.seconds();
  const double train_comm_s = tr.comm_seconds() - comm_before;
  // The final state on a fresh batch (step `steps`) and on the held-out rows.
  if (steps > 0) draw_rows(steps);
  const double final_loss = tr.compute_gradient();
  check_finite(final_loss, steps);
  const auto [final_metrics, final_se] = log_metrics(steps, final_loss);
  if (steps == 0) first_metrics = final_metrics;
  progress.finish();

  // Sampling: each grid row integrates its share of the samples; the ranks of a row integrate the
  // same points together (the network's forward pass is collective over the row).
  Stopwatch sample_clock;
  const SamplerKind kind = c.sampler;
  const std::vector<double> tgrid = sampler_grid(c.t_min, c.t_max, c.sample_steps);
  const model::Range srows = model::shard_range(c.samples, grid.p_data(), grid.data_index());
  const std::int64_t ns = srows.size();
  std::vector<T> in(static_cast<std::size_t>(ns * din)), out(static_cast<std::size_t>(ns * d));
  std::vector<double> tv(static_cast<std::size_t>(ns));
  const ScoreFn net_score = [&](const double* X, std::int64_t n, double t, double* S) {
    network_inputs(X, n, d, t, features, in.data());
    tr.predict(in.data(), n, out.data());
    const double sig = ou_sigma(t);
    if (base) {
      std::fill(tv.begin(), tv.end(), t);
      score(*base, X, tv.data(), n, S);
    } else {
      std::fill(S, S + n * d, 0.0);
    }
    for (std::int64_t q = 0; q < n * d; ++q) S[q] -= static_cast<double>(out[q]) / sig;
  };
  auto gather = [&](const std::vector<double>& local) {
    std::vector<double> all(static_cast<std::size_t>(c.samples * d), 0.0);
    std::copy(local.begin(), local.end(), all.begin() + srows.begin * d);
    if (grid.p_data() > 1) grid.column().allreduce_sum(std::span<double>(all));
    return all;
  };
  std::vector<double> local(static_cast<std::size_t>(ns * d));
  const double comm_before_sampling = tr.comm_seconds();
  reverse_sample(kind, net_score, tgrid, static_cast<std::uint64_t>(srows.begin), ns, d,
                 c.sample_seed, local.data());
  result.samples = gather(local);
  const double sample_comm_s = tr.comm_seconds() - comm_before_sampling;
  const double sample_s = sample_clock.seconds();
  const bool exact = mix && c.exact_reference;
  if (exact) {
    // The same x_T and the same Brownian increments: the two sample sets differ only by the score.
    const ScoreFn exact_score = [&](const double* X, std::int64_t n, double t, double* S) {
      std::fill(tv.begin(), tv.end(), t);
      score(*mix, X, tv.data(), n, S);
    };
    reverse_sample(kind, exact_score, tgrid, static_cast<std::uint64_t>(srows.begin), ns, d,
                   c.sample_seed, local.data());
    result.exact_samples = gather(local);
  }

  // Distances to fresh samples of the mixture (or to the data points), computed by every rank.
  const std::uint64_t ref_seed = derive_seed(c.data_seed, kPurposeReference);
  std::vector<double> ref = points;
  if (mix) {
    ref.assign(static_cast<std::size_t>(c.samples * d), 0.0);
    for (std::int64_t i = 0; i < c.samples; ++i)
      sample_mixture(*mix, ref_seed, static_cast<std::uint64_t>(i), ref.data() + i * d);
  }
  const std::int64_t nref = static_cast<std::int64_t>(ref.size()) / d;
  auto sw_to_ref = [&](const std::vector<double>& X) {
    return sliced_wasserstein(X.data(), static_cast<std::int64_t>(X.size()) / d, ref.data(), nref,
                              d, c.sw_directions, ref_seed);
  };
  const double sw = sw_to_ref(result.samples);
  nlohmann::json s = {{"score_rel_error", nullptr},
                      {"score_rel_error_by_t", nullptr},
                      {"initial_score_rel_error", nullptr},
                      {"heldout_dsm_loss", number_or_null(final_se.mean_dsm_loss())},
                      {"sliced_wasserstein", sw},
                      {"sliced_wasserstein_exact", nullptr},
                      {"sliced_wasserstein_floor", nullptr},
                      {"sliced_wasserstein_stop_bound", nullptr},
                      {"sliced_wasserstein_bound", nullptr},
                      {"mode_weights", nullptr},
                      {"mode_weight_error", nullptr},
                      {"modes_covered", nullptr}};
  if (mix) {
    s["score_rel_error"] = number_or_null(final_se.rel_error());
    s["score_rel_error_by_t"] = final_se.by_time();
    s["initial_score_rel_error"] = first_metrics["score_rel_error"];
    // The noise floor: two independent sets of fresh samples are this far apart.
    std::vector<double> floor_set(static_cast<std::size_t>(c.samples * d));
    const std::uint64_t floor_seed = derive_seed(c.data_seed, kPurposeFloor);
    for (std::int64_t i = 0; i < c.samples; ++i)
      sample_mixture(*mix, floor_seed, static_cast<std::uint64_t>(i), floor_set.data() + i * d);
    const double sw_floor = sw_to_ref(floor_set);
    const double stop = sw_stop_bound(*mix, c.t_min);
    s["sliced_wasserstein_floor"] = sw_floor;
    s["sliced_wasserstein_stop_bound"] = stop;
    s["sliced_wasserstein_bound"] = sw_floor + stop;
    const ModeStats ms = mode_stats(*mix, result.samples);
    s["mode_weights"] = ms.fractions;
    s["mode_weight_error"] = ms.max_error;
    s["modes_covered"] = ms.covered;
    s["modes"] = mix->K;
    s["weights"] = mix->weights;
    if (exact) {
      s["sliced_wasserstein_exact"] = sw_to_ref(result.exact_samples);
      const ModeStats me = mode_stats(*mix, result.exact_samples);
      s["mode_weights_exact"] = me.fractions;
      s["mode_weight_error_exact"] = me.max_error;
      s["modes_covered_exact"] = me.covered;
    }
  }

  if (dir) {
    const auto names = coord_names("x", d);
    if (rank0) {
      write_file_atomic(dir->path() / "samples.csv", csv_text(result.samples, d, names));
      if (exact)
        write_file_atomic(dir->path() / "samples_exact.csv",
                          csv_text(result.exact_samples, d, names));
    }
    if (c.run.save) {
      // The network, and every held-out row (regenerated whole on rank 0: rows are a pure
      // function of their index), so that another program can recompute the score error.
      const bool writes = grid.data_index() == 0;  // grid columns hold copies of the same neurons
      const auto& p = tr.params();
      const std::int64_t nrows = writes ? p.neurons.size() : 0;
      comm::write_npy_rows(grid.world(), dir->path() / "W.npy", p.W.data(), p.neurons.begin, nrows,
                           c.net.width, din);
      comm::write_npy_rows(grid.world(), dir->path() / "A.npy", p.A.data(), p.neurons.begin, nrows,
                           c.net.width, d);
      if (rank0) {
        std::vector<double> X(static_cast<std::size_t>(c.eval_n * din)),
            E(static_cast<std::size_t>(c.eval_n * d)), t(static_cast<std::size_t>(c.eval_n));
        std::vector<double> Y(E.size());
        held_draws.fill(0, c.eval_n, X.data(), Y.data(), t.data(), nullptr, E.data());
        const std::int64_t w = din + 1 + d;
        std::vector<double> table(static_cast<std::size_t>(c.eval_n * w));
        for (std::int64_t i = 0; i < c.eval_n; ++i) {
          std::copy_n(X.begin() + i * din, d, table.begin() + i * w);
          table[i * w + d] = t[i];
          std::copy_n(X.begin() + i * din + d, din - d, table.begin() + i * w + d + 1);
          std::copy_n(E.begin() + i * d, d, table.begin() + i * w + din + 1);
        }
        std::vector<std::string> header = names;
        header.push_back("t");
        for (const auto& f : features.names()) header.push_back("phi_" + f);
        for (const auto& e : coord_names("eps", d)) header.push_back(e);
        write_file_atomic(dir->path() / "heldout.csv", csv_text(table, w, header));
      }
    }
  }

  const std::vector<std::string> hosts = grid.world().allgather(hostname());
  const double med = median(step_times);
  s.update(nlohmann::json{
      {"mixture", spec.empty() ? nlohmann::json() : nlohmann::json(spec)},
      {"data", c.data.empty() ? nlohmann::json() : nlohmann::json(c.data)},
      {"d", d},
      {"input_dim", din},
      {"time_features", c.time_features},
      {"baseline", to_string(c.baseline)},
      {"t_min", c.t_min},
      {"t_max", c.t_max},
      {"sampler", to_string(kind)},
      {"sample_steps", c.sample_steps},
      {"samples", c.samples},
      {"steps", steps},
      {"n", c.n},
      {"width", c.net.width},
      {"lr", lr},
      {"optimizer", train::to_string(c.net.optimizer.kind)},
      {"initial_loss", result.losses.empty() ? final_loss : result.losses.front()},
      {"final_loss", final_loss},
      {"final_mean_loss", final_loss / static_cast<double>(c.n)},
      {"wall_s", wall.seconds()},
      {"train_s", train_s},
      {"compute_s", train_s - train_comm_s},
      {"comm_s", train_comm_s},
      {"sample_s", sample_s},
      {"sample_comm_s", sample_comm_s},
      {"step_time_median_s", med},
      {"neuron_samples_per_s", med > 0 ? static_cast<double>(c.n * c.net.width) / med : 0.0},
      {"ranks", grid.world().size()},
      {"grid", std::to_string(grid.p_data()) + "x" + std::to_string(grid.p_width())},
      {"threads", threads},
      {"precision", train::to_string(c.net.precision)},
      {"block", tr.block()},
      {"hosts", hosts},
      {"runtime", runtime}});
  // Under Slurm: which job (and array task) produced this run (as in train/loop.cpp).
  nlohmann::json slurm;
  for (const char* k : {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
                        "SLURM_JOB_NODELIST", "SLURM_NTASKS", "SLURM_JOB_PARTITION"})
    if (const char* v = std::getenv(k)) slurm[k] = v;
  if (!slurm.empty()) s["slurm"] = slurm;
  if (dir) {
    dir->write_json("summary.json", s);
    result.run_dir = dir->path().string();
  }
  log::info(cat("score error ", s["score_rel_error"].dump(), " (initial ",
                s["initial_score_rel_error"].dump(), "), sliced Wasserstein ", sw, " (exact score ",
                s["sliced_wasserstein_exact"].dump(), ", floor ",
                s["sliced_wasserstein_floor"].dump(), "), weight error ",
                s["mode_weight_error"].dump(), ", modes covered ", s["modes_covered"].dump(), "/",
                mix ? mix->K : 0, "; ", train_s, " s training, ", sample_s, " s sampling",
                dir ? ", run directory " + dir->path().string() : std::string()));
  result.summary = std::move(s);
  return result;
}

}  // namespace

namespace {
constexpr EnumName<Baseline> kBaselines[] = {{Baseline::kGaussian, "gaussian"},
                                             {Baseline::kNone, "none"}};
}  // namespace

Baseline parse_baseline(const std::string& s) {
  return parse_enum(kBaselines, s, "--baseline", "baseline");
}
std::string to_string(Baseline b) {
  return enum_name(kBaselines, b);
}

train::NetSpec default_net() {
  train::NetSpec c;
  c.width = 4096;
  c.scale = model::Scale::kSqrtM;
  c.init = model::InitKind::kSymmetric;
  c.optimizer.kind = train::OptimizerKind::kAdam;
  c.schedule.kind = train::ScheduleKind::kCosine;
  return c;
}

std::string mixture_spec(const Config& c) {
  if (!c.mixture.empty()) return c.mixture;
  return c.data.empty() ? "ring8" : "";
}

void validate(const Config& c) {
  train::validate(c.net);
  WIDEMAX_CHECK(c.steps >= 0, "--steps must be >= 0, got ", c.steps);
  WIDEMAX_CHECK(c.log_every >= 0, "--log-every must be >= 0, got ", c.log_every);
  WIDEMAX_CHECK(c.n >= 1, "--n must be at least 1, got ", c.n);
  make_time_sampler(c.t_min, c.t_max, c.time_sampling);
  const TimeFeatures f(c.time_features, c.t_max);
  WIDEMAX_CHECK(c.eval_n >= 1, "--eval-n must be at least 1, got ", c.eval_n);
  WIDEMAX_CHECK(c.time_buckets >= 1, "--time-buckets must be at least 1, got ", c.time_buckets);
  WIDEMAX_CHECK(c.sample_steps >= 1, "--sample-steps must be at least 1, got ", c.sample_steps);
  WIDEMAX_CHECK(c.samples >= 1, "--samples must be at least 1, got ", c.samples);
  WIDEMAX_CHECK(c.sw_directions >= 1, "--sw-directions must be at least 1, got ", c.sw_directions);
  WIDEMAX_CHECK_HINT(c.net.activation == model::Activation::kSoftmax,
                     "the score model is the softmax network",
                     "widemax diffusion supports --activation softmax only");
}

nlohmann::json to_json(const Config& c) {
  nlohmann::json j = train::to_json(c.net);
  j.update(nlohmann::json{{"out", c.run.out},
                          {"save", c.run.save},
                          {"steps", c.steps},
                          {"log_every", c.log_every},
                          {"mixture", c.mixture},
                          {"data", c.data},
                          {"n", c.n},
                          {"data_seed", c.data_seed},
                          {"t_min", c.t_min},
                          {"t_max", c.t_max},
                          {"time_sampling", to_string(c.time_sampling)},
                          {"time_features", c.time_features},
                          {"baseline", to_string(c.baseline)},
                          {"eval_n", c.eval_n},
                          {"time_buckets", c.time_buckets},
                          {"sampler", to_string(c.sampler)},
                          {"sample_steps", c.sample_steps},
                          {"samples", c.samples},
                          {"sample_seed", c.sample_seed},
                          {"sw_directions", c.sw_directions},
                          {"exact_reference", c.exact_reference}});
  return j;
}

Result run_diffusion(const Config& c, const comm::Grid& grid, int threads,
                     const nlohmann::json& runtime, bool write_outputs) {
  validate(c);
  if (c.net.precision == train::Precision::kFp32)
    return run_impl<float>(c, grid, threads, runtime, write_outputs);
  return run_impl<double>(c, grid, threads, runtime, write_outputs);
}

}  // namespace widemax::diffusion
