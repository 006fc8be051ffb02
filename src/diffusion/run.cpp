// `widemax diffusion`. See run.hpp. Everything rank-dependent is decided before the loop. Inside it
// every rank issues the same collectives in the same order: the trainer's step, its forward passes
// on the held-out rows and in the samplers (the merge all-reduce on the row communicator), the
// column sums of the held-out error and of the samples' gather, and the agreement on a finite
// gradient.
#include "widemax/diffusion/run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
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
#include "widemax/run/run.hpp"
#include "widemax/train/checkpoint.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::diffusion {

namespace {

// Adam's learning rate when --lr is not given: measured on the ring of 8 Gaussians at widths
// 1024 to 16384 (experiments/README.md, "Score error against width").
constexpr double kDefaultAdamLr = 1e-2;

// What a resumed run may change besides the run layer's own keys (run::Run::check_resume): the
// rate when --lr says so, the execution on the ranks, and the evaluation and sampling after
// training.
// clang-format off
const std::vector<std::string> kMayChangeOnResume = {
    "lr", "grid", "grid_resolved", "block", "block_resolved", "logit_cache", "eval_n",
    "time_buckets", "sampler", "sample_steps", "samples", "sample_seed", "sw_directions",
    "exact_reference", "lr_auto", "lr_auto_c"};
// clang-format on

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

// What the run trains on and measures against: the mixture (the reference, and the data unless
// --data is given), the points of --data, the Gaussian baseline, the time distribution and the
// time features. Every rank reads the files whole: they are small, and every rank then refuses a
// bad file alike.
struct Problem {
  std::string spec;
  std::optional<Mixture> mix;
  std::vector<double> points;
  std::int64_t d = 0;
  std::optional<Mixture> base;  // the baseline is part of the model: a Gaussian fit of the data
  TimeSampler times;
  TimeFeatures features;
  std::int64_t din = 0;  // network inputs: x_t and phi(t)

  explicit Problem(const Config& c)
      : spec(mixture_spec(c)),
        times(make_time_sampler(c.t_min, c.t_max, c.time_sampling)),
        features(c.time_features, c.t_max) {
    if (!spec.empty()) mix = load_mixture(spec, c.data_seed);
    d = mix ? mix->d : 0;
    if (!c.data.empty()) {
      data::Dataset ds = data::read_csv(c.data, {});
      data::check_finite(ds.X, c.data);
      WIDEMAX_CHECK(!mix || ds.d == mix->d, "--data ", c.data, " has ", ds.d,
                    " columns, but --mixture ", spec, " is ", mix ? mix->d : 0, "-dimensional");
      d = ds.d;
      points = std::move(ds.X);
    }
    if (c.baseline == Baseline::kGaussian)
      base = points.empty() ? gaussian_fit(*mix) : gaussian_fit(points, d);
    din = d + features.size();
  }
  const Mixture* mixture() const { return mix ? &*mix : nullptr; }
  const Mixture* baseline() const { return base ? &*base : nullptr; }
};

// The held-out rows (x_t, t) of this grid row, their DSM targets, true scores and baseline scores,
// drawn once; evaluate() is the relative score error of the network on them.
template <class T>
struct HeldOut {
  std::int64_t n = 0, d = 0, din = 0;
  Parametrisation param;
  std::vector<double> target, t, xt, score, base_score;
  std::vector<T> X, F;

  HeldOut(const Problem& p, const DsmDraws& draws, const model::Range& rows)
      : n(rows.size()), d(p.d), din(p.din), param(draws.parametrisation()) {
    std::vector<double> Xd(static_cast<std::size_t>(n * din));
    target.resize(static_cast<std::size_t>(n * d));
    t.resize(static_cast<std::size_t>(n));
    xt.resize(static_cast<std::size_t>(n * d));
    draws.fill(static_cast<std::uint64_t>(rows.begin), n, Xd.data(), target.data(), t.data(),
               nullptr, nullptr, xt.data());
    base_score.assign(xt.size(), 0.0);
    if (p.mix) {
      score.resize(xt.size());
      diffusion::score(*p.mix, xt.data(), t.data(), n, score.data());
    }
    if (p.base) diffusion::score(*p.base, xt.data(), t.data(), n, base_score.data());
    X.assign(Xd.begin(), Xd.end());
    F.resize(static_cast<std::size_t>(n * d));
  }

  // Collective: the network's forward pass over the row, then the column sums of the error.
  // Beside the network's score, that of the zero network (F = 0).
  ScoreError evaluate(train::Trainer<T>& tr, const comm::Grid& grid, const Config& c,
                      const TimeSampler& times, bool with_truth) {
    tr.predict(X.data(), n, F.data());
    ScoreError se(c.time_buckets, times);
    std::vector<double> s(static_cast<std::size_t>(d)), s0(s.size()), f(s.size()),
        zero(s.size(), 0.0);
    for (std::int64_t q = 0; q < n; ++q) {
      double dsm = 0;
      for (std::int64_t j = 0; j < d; ++j) {
        f[j] = static_cast<double>(F[q * d + j]);
        dsm += (f[j] - target[q * d + j]) * (f[j] - target[q * d + j]);
      }
      const double* x = xt.data() + q * d;
      model_score(param, x, f.data(), base_score.data() + q * d, d, t[q], s.data());
      model_score(param, x, zero.data(), base_score.data() + q * d, d, t[q], s0.data());
      se.add_dsm(dsm);
      if (with_truth) se.add(t[q], s.data(), score.data() + q * d, d, s0.data());
    }
    if (grid.p_data() > 1) grid.column().allreduce_sum(std::span<double>(se.sums()));
    return se;
  }
};

// Reverse-time sampling with the network (and with the exact score, from the same x_T and
// Brownian increments, so that the two sample sets differ only by the score), then the sliced
// Wasserstein distances to fresh mixture samples (or the data) and the recovered mode weights.
// Each grid row integrates its share of the samples; the ranks of a row integrate the same points
// together (the network's forward pass is collective over the row); one column sum gathers them.
template <class T>
nlohmann::json sample_and_measure(const Problem& p, const Config& c, const comm::Grid& grid,
                                  train::Trainer<T>& tr, double input_scale, Result& result) {
  const std::int64_t d = p.d;
  const SamplerKind kind = c.sampler;
  const std::vector<double> tgrid = sampler_grid(c.t_min, c.t_max, c.sample_steps);
  const model::Range srows = model::shard_range(c.samples, grid.p_data(), grid.data_index());
  const std::int64_t ns = srows.size();
  std::vector<T> in(static_cast<std::size_t>(ns * p.din)), out(static_cast<std::size_t>(ns * d));
  std::vector<double> tv(static_cast<std::size_t>(ns)), sb(static_cast<std::size_t>(ns * d)),
      f(static_cast<std::size_t>(d));
  const ScoreFn net_score = [&](const double* X, std::int64_t n, double t, double* S) {
    network_inputs(X, n, d, t, p.features, in.data(), input_scale);
    tr.predict(in.data(), n, out.data());
    if (p.base) {
      std::fill(tv.begin(), tv.end(), t);
      score(*p.base, X, tv.data(), n, sb.data());
    }
    for (std::int64_t q = 0; q < n; ++q) {
      for (std::int64_t j = 0; j < d; ++j) f[j] = static_cast<double>(out[q * d + j]);
      model_score(c.parametrisation, X + q * d, f.data(), p.base ? sb.data() + q * d : nullptr, d,
                  t, S + q * d);
    }
  };
  auto gather = [&](const std::vector<double>& local) {
    std::vector<double> all(static_cast<std::size_t>(c.samples * d), 0.0);
    std::copy(local.begin(), local.end(), all.begin() + srows.begin * d);
    if (grid.p_data() > 1) grid.column().allreduce_sum(std::span<double>(all));
    return all;
  };
  std::vector<double> local(static_cast<std::size_t>(ns * d));
  reverse_sample(kind, net_score, tgrid, static_cast<std::uint64_t>(srows.begin), ns, d,
                 c.sample_seed, local.data());
  result.samples = gather(local);
  const bool exact = p.mix && c.exact_reference;
  if (exact) {
    const ScoreFn exact_score = [&](const double* X, std::int64_t n, double t, double* S) {
      std::fill(tv.begin(), tv.end(), t);
      score(*p.mix, X, tv.data(), n, S);
    };
    reverse_sample(kind, exact_score, tgrid, static_cast<std::uint64_t>(srows.begin), ns, d,
                   c.sample_seed, local.data());
    result.exact_samples = gather(local);
  }

  // Distances to fresh samples of the mixture (or to the data points), computed by every rank.
  const std::uint64_t ref_seed = derive_seed(c.data_seed, kPurposeReference);
  std::vector<double> ref = p.points;
  if (p.mix) {
    ref.assign(static_cast<std::size_t>(c.samples * d), 0.0);
    for (std::int64_t i = 0; i < c.samples; ++i)
      sample_mixture(*p.mix, ref_seed, static_cast<std::uint64_t>(i), ref.data() + i * d);
  }
  const std::int64_t nref = static_cast<std::int64_t>(ref.size()) / d;
  auto sw_to_ref = [&](const std::vector<double>& X) {
    return sliced_wasserstein(X.data(), static_cast<std::int64_t>(X.size()) / d, ref.data(), nref,
                              d, c.sw_directions, ref_seed);
  };
  nlohmann::json s = {{"score_rel_error", nullptr},
                      {"score_rel_error_by_t", nullptr},
                      {"initial_score_rel_error", nullptr},
                      {"sliced_wasserstein", sw_to_ref(result.samples)},
                      {"sliced_wasserstein_exact", nullptr},
                      {"sliced_wasserstein_floor", nullptr},
                      {"sliced_wasserstein_stop_bound", nullptr},
                      {"sliced_wasserstein_bound", nullptr},
                      {"mode_weights", nullptr},
                      {"mode_weight_error", nullptr},
                      {"modes_covered", nullptr}};
  if (!p.mix) return s;
  // The noise floor: two independent sets of fresh samples are this far apart.
  std::vector<double> floor_set(static_cast<std::size_t>(c.samples * d));
  const std::uint64_t floor_seed = derive_seed(c.data_seed, kPurposeFloor);
  for (std::int64_t i = 0; i < c.samples; ++i)
    sample_mixture(*p.mix, floor_seed, static_cast<std::uint64_t>(i), floor_set.data() + i * d);
  const double sw_floor = sw_to_ref(floor_set);
  const double stop = sw_stop_bound(*p.mix, c.t_min);
  s["sliced_wasserstein_floor"] = sw_floor;
  s["sliced_wasserstein_stop_bound"] = stop;
  s["sliced_wasserstein_bound"] = sw_floor + stop;
  const ModeStats ms = mode_stats(*p.mix, result.samples);
  s["mode_weights"] = ms.fractions;
  s["mode_weight_error"] = ms.max_error;
  s["modes_covered"] = ms.covered;
  s["modes"] = p.mix->K;
  s["weights"] = p.mix->weights;
  if (exact) {
    s["sliced_wasserstein_exact"] = sw_to_ref(result.exact_samples);
    const ModeStats me = mode_stats(*p.mix, result.exact_samples);
    s["mode_weights_exact"] = me.fractions;
    s["mode_weight_error_exact"] = me.max_error;
    s["modes_covered_exact"] = me.covered;
  }
  return s;
}

// samples.csv (and samples_exact.csv); with --save also the network and every held-out row
// (regenerated whole on rank 0: rows are a pure function of their index), so that another
// program can recompute the score error. Collective (the tensors).
template <class T>
void write_samples(const run::Run& run, const Problem& p, const Config& c, const comm::Grid& grid,
                   const train::Trainer<T>& tr, const DsmDraws& held_draws, const Result& result) {
  const bool rank0 = grid.world().rank() == 0;
  const std::int64_t d = p.d, din = p.din;
  const auto names = coord_names("x", d);
  if (rank0) {
    write_file_atomic(run.path() / "samples.csv", csv_text(result.samples, d, names));
    if (!result.exact_samples.empty())
      write_file_atomic(run.path() / "samples_exact.csv", csv_text(result.exact_samples, d, names));
  }
  if (!c.run.save) return;
  train::save_parameters(run, grid, tr);
  if (!rank0) return;
  std::vector<double> X(static_cast<std::size_t>(c.eval_n * din)),
      E(static_cast<std::size_t>(c.eval_n * d)), t(static_cast<std::size_t>(c.eval_n));
  std::vector<double> Y(E.size()), xt(E.size());
  held_draws.fill(0, c.eval_n, X.data(), Y.data(), t.data(), nullptr, E.data(), xt.data());
  // x_t and phi(t) as the forward process gives them: the x0 input scale is in config.json.
  const std::int64_t w = din + 1 + d;
  std::vector<double> table(static_cast<std::size_t>(c.eval_n * w));
  for (std::int64_t i = 0; i < c.eval_n; ++i) {
    std::copy_n(xt.begin() + i * d, d, table.begin() + i * w);
    table[i * w + d] = t[i];
    p.features.eval(t[i], table.data() + i * w + d + 1);
    std::copy_n(E.begin() + i * d, d, table.begin() + i * w + din + 1);
  }
  std::vector<std::string> header = names;
  header.push_back("t");
  for (const auto& f : p.features.names()) header.push_back("phi_" + f);
  for (const auto& e : coord_names("eps", d)) header.push_back(e);
  write_file_atomic(run.path() / "heldout.csv", csv_text(table, w, header));
}

// Every step's n rows are split over the grid rows: so are the held-out rows and the samples.
void check_row_counts(const Config& c, const comm::Grid& grid) {
  for (const auto& [count, option] :
       {std::pair{c.n, "--n"}, std::pair{c.eval_n, "--eval-n"}, std::pair{c.samples, "--samples"}})
    WIDEMAX_CHECK_ALL_HINT(count >= grid.p_data(), "use fewer grid rows (--grid 1xP)", option, " ",
                           count, " is smaller than the ", grid.p_data(),
                           " grid rows that split the rows");
}

// The DSM rows of the steps: step s trains on rows s n + [this grid row's shard of n], a pure
// function of the step, so a resumed run (on any grid) sees the rows an uninterrupted one does.
struct StepRows {
  const DsmDraws& draws;
  std::int64_t n;
  model::Range mine;

  StepRows(const DsmDraws& d, std::int64_t n_rows, const comm::Grid& grid)
      : draws(d), n(n_rows), mine(model::shard_range(n_rows, grid.p_data(), grid.data_index())) {}

  // Step 0's rows as the trainer's training set: inputs (rows, din), targets (rows, d).
  train::LocalData first(std::int64_t din, std::int64_t d) const {
    train::LocalData data;
    data.d = din;
    data.d_out = d;
    data.train.n_global = n;
    for (std::int64_t q = mine.begin; q < mine.end; ++q) data.train.ids.push_back(q);
    data.train.X.resize(static_cast<std::size_t>(mine.size() * din));
    data.train.Y.resize(static_cast<std::size_t>(mine.size() * d));
    draws.fill(static_cast<std::uint64_t>(mine.begin), mine.size(), data.train.X.data(),
               data.train.Y.data(), nullptr);
    return data;
  }
  // Step `step`'s rows into the trainer (X, Y are scratch of step 0's sizes).
  template <class T>
  void draw(std::int64_t step, std::vector<double>& X, std::vector<double>& Y,
            train::Trainer<T>& tr) const {
    draws.fill(static_cast<std::uint64_t>(step * n + mine.begin), mine.size(), X.data(), Y.data(),
               nullptr);
    tr.replace_train_rows(X, Y);
  }
};

// The held-out figures of a metrics line: the DSM loss and, with a mixture, the relative score
// error overall and per time bucket (null where a bucket is empty).
nlohmann::json score_metrics(const ScoreError& se, bool with_truth) {
  nlohmann::json j = {{"heldout_dsm_loss", number_or_null(se.mean_dsm_loss())}};
  if (!with_truth) return j;
  j["score_rel_error"] = number_or_null(se.rel_error());
  nlohmann::json by = nlohmann::json::array();
  for (int b = 0; b < se.buckets(); ++b) by.push_back(number_or_null(se.rel_error(b)));
  j["score_rel_error_by_t"] = by;
  j["zero_network_score_rel_error"] = number_or_null(se.zero_rel_error());
  j["weighted_score_error"] = number_or_null(se.weighted_error());
  j["weighted_score_rel_error"] = number_or_null(se.weighted_rel_error());
  return j;
}

std::string start_line(const Config& c, const Problem& p, double lr, double input_scale,
                       const comm::Grid& grid, const run::Run& run) {
  return cat("widemax diffusion: ", p.spec.empty() ? "" : "mixture " + p.spec + " ",
             c.data.empty() ? "" : "data " + c.data + " ", "d=", p.d,
             p.mix ? cat(" K=", p.mix->K) : std::string(), " m=", c.net.width, " inputs ", p.din,
             " (x_t + ", c.time_features, "), ", to_string(c.parametrisation), "-prediction",
             c.parametrisation == Parametrisation::kX0 ? cat(" (input scale ", input_scale, ")")
                                                       : std::string(),
             ", baseline ", to_string(c.baseline), ", ", c.n, " rows/step, t ",
             to_string(c.time_sampling), " in [", c.t_min, ", ", c.t_max, "], ",
             train::to_string(c.net.optimizer.kind), " lr=", lr, " ",
             train::to_string(c.net.precision), " grid ", grid.name(),
             run.writes() ? " -> " + run.path().string() : std::string());
}

std::string result_line(const nlohmann::json& r, const Problem& p, double train_s, double sample_s,
                        const std::string& run_dir) {
  return cat("score error ", r["score_rel_error"].dump(), " (initial ",
             r["initial_score_rel_error"].dump(), "), sliced Wasserstein ",
             r["sliced_wasserstein"].dump(), " (exact score ", r["sliced_wasserstein_exact"].dump(),
             ", floor ", r["sliced_wasserstein_floor"].dump(), "), weight error ",
             r["mode_weight_error"].dump(), ", modes covered ", r["modes_covered"].dump(), "/",
             p.mix ? p.mix->K : 0, "; ", train_s, " s training, ", sample_s, " s sampling",
             run_dir.empty() ? std::string() : ", run directory " + run_dir);
}

template <class T>
Result run_impl(const Config& in, const comm::Grid& grid, int threads,
                const nlohmann::json& runtime, bool write_outputs) {
  Config request = in;
  Stopwatch wall;
  run::Run run(request.run, "diffusion", grid.world(), runtime, write_outputs, request.steps);
  if (run.writes()) request.run.out = run.path().string();

  // x0: every step is a full-batch step over the fixed training set.
  const bool x0 = request.parametrisation == Parametrisation::kX0;
  if (x0) request.n = request.train_samples;
  const Problem p(request);
  const std::int64_t d = p.d, din = p.din;
  const Mixture* train_mix = p.points.empty() ? p.mixture() : nullptr;
  const std::vector<double>* train_points = p.points.empty() ? nullptr : &p.points;
  const std::uint64_t train_seed = derive_seed(request.data_seed, kPurposeTrain);
  // x0: one factor for every input, from the training rows (docs/design.md §1.3); the held-out
  // rows and the samplers use the same factor, so their inputs may exceed norm 1 slightly.
  const double input_scale =
      x0 ? x0_input_scale(DsmDraws(train_mix, train_points, d, p.times, p.features, train_seed),
                          request.n)
         : 1.0;
  const DsmDraws train_draws(train_mix, train_points, d, p.times, p.features, train_seed,
                             p.baseline(), request.parametrisation, input_scale);
  const DsmDraws held_draws(p.mixture(), p.mix ? nullptr : &p.points, d, p.times, p.features,
                            derive_seed(request.data_seed, kPurposeHeldout), p.baseline(),
                            request.parametrisation, input_scale);

  check_row_counts(request, grid);
  const StepRows rows(train_draws, request.n, grid);
  const model::Range stop_rows =
      x0 ? model::shard_range(holdout_count(request), grid.p_data(), grid.data_index())
         : model::Range{0, 0};
  request.net.d_out = d;
  train::check_memory(
      request.net, /*keeps_w0=*/false, grid, din, d, rows.mine.size(), 0, threads,
      train::sample_bytes(rows.mine.size() + stop_rows.size(), din, d, request.net.precision),
      x0 ? cat("--train-samples ", request.n) : cat("--n ", request.n));
  train::LocalData data = rows.first(din, d);
  if (x0) {
    // The held-out triples of the early stopping are the trainer's test rows, so that
    // evaluate_test() is their loss (one column sum).
    const DsmDraws stop_draws(train_mix, train_points, d, p.times, p.features,
                              derive_seed(request.data_seed, kPurposeStop), nullptr,
                              Parametrisation::kX0, input_scale);
    data.test.n_global = holdout_count(request);
    for (std::int64_t q = stop_rows.begin; q < stop_rows.end; ++q) data.test.ids.push_back(q);
    data.test.X.resize(static_cast<std::size_t>(stop_rows.size() * din));
    data.test.Y.resize(static_cast<std::size_t>(stop_rows.size() * d));
    stop_draws.fill(static_cast<std::uint64_t>(stop_rows.begin), stop_rows.size(),
                    data.test.X.data(), data.test.Y.data(), nullptr);
  }
  const train::Execution exec =
      train::resolve_execution(request.net, grid, data, threads, sizeof(T));
  train::Trainer<T> tr(request.net, grid, data, threads, exec);
  HeldOut<T> held(p, held_draws,
                  model::shard_range(request.eval_n, grid.p_data(), grid.data_index()));

  // Resume: the network and the optimiser; the rows of a step are a pure function of the step.
  Result result;
  nlohmann::json first_metrics, resumed;
  std::int64_t s0 = 0;
  const auto ckpt = run.resume_point();
  if (ckpt) {
    resumed = train::restore_network<T>(grid, *ckpt, tr, request.net, nullptr);
    s0 = resumed["step"].get<std::int64_t>();
    first_metrics = resumed.value("first_metrics", nlohmann::json::object());
  }
  // On resume exactly the interrupted run's rate (the default is a sum over ranks), unless --lr
  // says otherwise.
  const bool keep_lr = !resumed.empty() && !request.net.lr.given();
  const double lr = keep_lr                  ? resumed.value("lr", 0.0)
                    : request.net.lr.given() ? request.net.lr.value
                    : request.net.optimizer.kind == train::OptimizerKind::kAdam
                        ? kDefaultAdamLr
                        : train::default_lr(request.net, /*batch=*/0, data, grid);

  const Plan plan{request, p.spec, din, input_scale, lr, exec, grid.name(), threads};
  if (ckpt) {
    run.check_resume(resumed, *ckpt, to_json(plan), kMayChangeOnResume);
    run.resumed(*ckpt, resumed, s0);
  }
  std::error_code no_file;  // a preset, not a file
  const bool mixture_file = std::filesystem::is_regular_file(request.mixture, no_file);
  run.write_config(to_json(plan),
                   run::absolute_inputs(
                       {{"data", request.data}, {"mixture", mixture_file ? request.mixture : ""}}));
  const Config& c = plan.request;  // from here on the loop reads the plan
  if (p.mix) run.write_json("mixture.json", p.mix->to_json());
  if (p.base) run.write_json("baseline.json", p.base->to_json());
  log::info(start_line(c, p, lr, input_scale, grid, run));

  // x0's early stopping: the best held-out loss so far, its step, and the evaluations since.
  struct Stopping {
    double best = std::numeric_limits<double>::infinity();
    std::int64_t best_step = -1, since_best = 0;
  } stop;
  if (x0 && resumed.contains("early_stopping")) {
    const auto& e = resumed["early_stopping"];
    stop.best = e.value("best", stop.best);
    stop.best_step = e.value("best_step", stop.best_step);
    stop.since_best = e.value("since_best", stop.since_best);
  }
  auto stopping_json = [&] {
    return nlohmann::json{{"best", number_or_null(stop.best)},
                          {"best_step", stop.best_step},
                          {"since_best", stop.since_best}};
  };

  Stopwatch train_clock;
  const std::int64_t steps = c.steps;
  auto log_metrics = [&](std::int64_t step, double loss) {
    // grad_norm of the last compute_gradient(): logged before the step's update.
    nlohmann::json j = {{"step", step},
                        {"loss", loss},
                        {"mean_loss", loss / static_cast<double>(c.n)},
                        {"grad_norm", tr.grad_norm()},
                        {"lr", train::scheduled_lr(c.net.schedule, lr, step, steps)}};
    const ScoreError se = held.evaluate(tr, grid, c, p.times, p.mix.has_value());
    j.update(score_metrics(se, p.mix.has_value()));
    if (x0) {
      const double h = tr.evaluate_test().mean_loss();
      j["holdout_loss"] = h;
      if (h < stop.best) {
        stop = {h, step, 0};
      } else {
        ++stop.since_best;
      }
    }
    j["elapsed_s"] = train_clock.seconds();
    run.append_metrics(j);
    return std::pair{j, se};
  };
  std::vector<double> Xb(data.train.X.size()), Yb(data.train.Y.size());
  auto draw_rows = [&](std::int64_t step) { rows.draw(step, Xb, Yb, tr); };
  // The loss at the first step is part of the summary: carried in the checkpoint.
  auto initial_loss = [&](double this_step) {
    if (!resumed.empty()) return resumed.value("initial_loss", this_step);
    return result.losses.empty() ? this_step : result.losses.front();
  };
  auto checkpoint = [&](std::int64_t step, double loss) {
    train::save_network<T>(run, grid, step, tr, c.net,
                           {{"lr", lr},
                            {"initial_loss", initial_loss(loss)},
                            {"first_metrics", first_metrics},
                            {"early_stopping", stopping_json()},
                            {"config", to_json(plan)}},
                           nullptr);
  };

  std::vector<double> step_times;
  const double comm_before = tr.comm_seconds();
  // The step the training ends at: `steps`, or where the early stopping stopped it.
  std::int64_t end = steps;
  bool end_checkpointed = false;  // the stop's step has its checkpoint already
  std::optional<std::pair<nlohmann::json, ScoreError>> stopped_metrics;
  for (std::int64_t step = s0; step < steps; ++step) {
    Stopwatch sw;
    if (step > 0 && !x0) draw_rows(step);  // step 0's rows are the trainer's initial ones
    const double loss = tr.compute_gradient();
    run::check_loss(loss, step, "lower --lr");
    const int signal = run.agree(step, std::isfinite(tr.local_grad_sq()), "lower --lr");
    const bool checkpointed = run.checkpoint_due(step, s0) || signal;
    if (checkpointed) checkpoint(step, loss);
    if (signal) {
      run.preempted(signal, step);
      result.preempted = true;
      return result;
    }
    const bool logged = step == 0 || (c.log_every > 0 && step % c.log_every == 0);
    if (logged) {
      auto logged_now = log_metrics(step, loss);
      if (step == 0) first_metrics = logged_now.first;
      // The held-out loss is one all-reduced number: every rank stops at the same step.
      if (x0 && c.patience > 0 && stop.since_best >= c.patience) {
        end = step;
        end_checkpointed = checkpointed;
        stopped_metrics = std::move(logged_now);
        step_times.push_back(sw.seconds());
        result.losses.push_back(loss);
        break;
      }
    }
    tr.apply_update(train::scheduled_lr(c.net.schedule, lr, step, steps), step);
    step_times.push_back(sw.seconds());
    result.losses.push_back(loss);
    run.progress().update(step + 1, loss / static_cast<double>(c.n),
                          static_cast<double>(c.n * c.net.width) / step_times.back(), logged);
  }
  const double train_s = train_clock.seconds();
  const double train_comm_s = tr.comm_seconds() - comm_before;
  // The final state on a fresh batch (step `end`; x0: the training set) and on the held-out rows.
  if (end > 0 && !x0) draw_rows(end);
  const double final_loss = tr.compute_gradient();
  run::check_loss(final_loss, end, "lower --lr");
  // A signal that came during the last step or is here now: checkpoint the trained network before
  // the (long) sampling, so that a resume goes straight to sampling. A signal during sampling is
  // not acted on: the samples are computed and the run ends normally.
  const int late_signal = run.agree(end, std::isfinite(tr.local_grad_sq()), "lower --lr");
  if ((c.run.checkpoint_every > 0 && end > s0 && !end_checkpointed) || late_signal)
    checkpoint(end, final_loss);
  if (late_signal) {
    run.preempted(late_signal, end);
    result.preempted = true;
    return result;
  }
  // Stopped early: the stopping step's metrics are the final ones (logged once).
  const auto [final_metrics, final_se] =
      stopped_metrics ? std::move(*stopped_metrics) : log_metrics(end, final_loss);
  if (end == 0) first_metrics = final_metrics;
  run.progress().finish();

  Stopwatch sample_clock;
  const double comm_before_sampling = tr.comm_seconds();
  nlohmann::json s = sample_and_measure(p, c, grid, tr, input_scale, result);
  const double sample_comm_s = tr.comm_seconds() - comm_before_sampling;
  const double sample_s = sample_clock.seconds();
  s["heldout_dsm_loss"] = number_or_null(final_se.mean_dsm_loss());
  if (p.mix) {
    s["score_rel_error"] = number_or_null(final_se.rel_error());
    s["score_rel_error_by_t"] = final_se.by_time();
    s["initial_score_rel_error"] = first_metrics["score_rel_error"];
    s["zero_network_score_rel_error"] = number_or_null(final_se.zero_rel_error());
    s["weighted_score_error"] = number_or_null(final_se.weighted_error());
    s["weighted_score_rel_error"] = number_or_null(final_se.weighted_rel_error());
    s["zero_network_weighted_score_rel_error"] = number_or_null(final_se.zero_weighted_rel_error());
  }
  s["parametrisation"] = to_string(c.parametrisation);
  s["input_scale"] = input_scale;
  s["steps_done"] = end;
  if (x0) {
    s.update(nlohmann::json{{"train_samples", c.train_samples},
                            {"holdout_samples", holdout_count(c)},
                            {"patience", c.patience},
                            {"final_holdout_loss", final_metrics["holdout_loss"]},
                            {"best_holdout_loss", number_or_null(stop.best)},
                            {"best_holdout_step", stop.best_step},
                            {"stopped_early", stopped_metrics.has_value()}});
  }
  if (run.writes()) write_samples(run, p, c, grid, tr, held_draws, result);

  s.update(train::describe(tr, c.net, grid, threads));
  s.update(run::timings(wall.seconds(), train_s, train_comm_s, step_times, "neuron_samples_per_s",
                        static_cast<double>(c.n * c.net.width)));
  s.update(nlohmann::json{{"mixture", p.spec.empty() ? nlohmann::json() : nlohmann::json(p.spec)},
                          {"data", c.data.empty() ? nlohmann::json() : nlohmann::json(c.data)},
                          {"d", d},
                          {"input_dim", din},
                          {"time_features", c.time_features},
                          {"baseline", to_string(c.baseline)},
                          {"t_min", c.t_min},
                          {"t_max", c.t_max},
                          {"sampler", to_string(c.sampler)},
                          {"sample_steps", c.sample_steps},
                          {"samples", c.samples},
                          {"steps", steps},
                          {"n", c.n},
                          {"lr", lr},
                          {"optimizer", train::to_string(c.net.optimizer.kind)},
                          {"initial_loss", initial_loss(final_loss)},
                          {"final_loss", final_loss},
                          {"final_mean_loss", final_loss / static_cast<double>(c.n)},
                          {"sample_s", sample_s},
                          {"sample_comm_s", sample_comm_s}});
  result.summary = run.finish(std::move(s));
  if (run.writes()) result.run_dir = run.path().string();
  log::info(result_line(result.summary, p, train_s, sample_s, result.run_dir));
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

void apply_x0_defaults(Config& c) {
  c.parametrisation = Parametrisation::kX0;
  c.net.scale = model::Scale::kM;
  c.net.optimizer.kind = train::OptimizerKind::kGd;
  c.net.schedule.kind = train::ScheduleKind::kConstant;
  c.net.train_a = false;
  c.baseline = Baseline::kNone;
  c.time_features = "raw-t";
}

std::int64_t holdout_count(const Config& c) {
  return c.holdout_samples > 0 ? c.holdout_samples : std::max<std::int64_t>(1, c.train_samples / 4);
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
  if (c.parametrisation != Parametrisation::kX0) return;
  // The paper's setting (docs/design.md §1.3): what the CLI refuses by option name.
  const char* x0 = "--parametrisation x0 trains W alone by full-batch gradient descent on [x_t, t]";
  WIDEMAX_CHECK_HINT(c.net.optimizer.kind == train::OptimizerKind::kGd, x0, "--optimizer ",
                     train::to_string(c.net.optimizer.kind),
                     " does not apply to --parametrisation x0 (only gd)");
  WIDEMAX_CHECK_HINT(!c.net.train_a, x0, "--train-a does not apply to --parametrisation x0");
  WIDEMAX_CHECK_HINT(c.baseline == Baseline::kNone, x0, "--baseline ", to_string(c.baseline),
                     " does not apply to --parametrisation x0 (the score is (e^-t F - x) / "
                     "sigma_t^2)");
  WIDEMAX_CHECK_HINT(c.time_features == "raw-t", x0,
                     "--time-features does not apply to "
                     "--parametrisation x0 (the time input is raw t)");
  WIDEMAX_CHECK(c.train_samples >= 1, "--train-samples must be at least 1, got ", c.train_samples);
  WIDEMAX_CHECK(c.holdout_samples >= 0, "--holdout-samples must be >= 0, got ", c.holdout_samples);
  WIDEMAX_CHECK(c.patience >= 0, "--patience must be >= 0, got ", c.patience);
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
                          {"parametrisation", to_string(c.parametrisation)},
                          {"train_samples", c.train_samples},
                          {"holdout_samples", c.holdout_samples},
                          {"patience", c.patience},
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

nlohmann::json to_json(const Plan& p) {
  nlohmann::json j = to_json(p.request);
  j["mixture_resolved"] = p.mixture;
  j["lr"] = p.lr;
  j["input_dim"] = p.input_dim;
  j["input_scale"] = p.input_scale;
  j["block_resolved"] = p.execution.block;
  j["grid_resolved"] = p.grid;
  j["threads_resolved"] = p.threads;
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
