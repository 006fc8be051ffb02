// `widemax polarize`: options check, problem set-up (beta, p*, initial V and a), the GD loop and
// the run directory. See polarize/run.hpp. Inside the loop every rank issues the same collectives
// at the same steps (model.hpp lists them).
#include "widemax/polarize/run.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "widemax/comm/npy_io.hpp"
#include "widemax/core/enum_names.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/stats.hpp"
#include "widemax/core/system.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/data/npy.hpp"
#include "widemax/polarize/model.hpp"
#include "widemax/run/run.hpp"

namespace widemax::polarize {

namespace {

// Runs a file reader, prefixing its errors with the option that named the file.
template <class F>
auto naming(const std::string& option, F&& read) {
  try {
    return read();
  } catch (const Error& e) {
    throw Error(option + ": " + e.what(), e.file(), e.line(), e.hint());
  }
}

void check_finite(const std::vector<double>& v, const std::string& what) {
  for (std::size_t i = 0; i < v.size(); ++i)
    WIDEMAX_CHECK(std::isfinite(v[i]), what, ": entry ", i, " is ", v[i], ", not a finite number");
}

// beta from --beta: the generator, or a .npy file of shape (d, 1) or (1, d). Sets c.d from a file.
std::vector<double> load_beta(Config& c) {
  if (c.beta.empty()) return random_beta(c.d, c.beta_seed, c.beta_norm);
  const std::filesystem::path path(c.beta);
  WIDEMAX_CHECK_HINT(!std::filesystem::is_directory(path),
                     "give 'random' or a .npy file of shape (d, 1), not a directory", "--beta: '",
                     c.beta, "' is a directory, not a .npy file");
  WIDEMAX_CHECK_HINT(
      std::filesystem::is_regular_file(path),
      "give 'random' or a .npy file of shape (d, 1), e.g. np.save(f, b.reshape(-1, 1))",
      "--beta: no such file '", c.beta, "'");
  const data::NpyInfo info = naming("--beta", [&] { return data::read_npy_info(path); });
  WIDEMAX_CHECK(info.shape[0] == 1 || info.shape[1] == 1, "--beta: '", c.beta, "' has shape (",
                info.shape[0], ", ", info.shape[1], "); expected (d, 1) or (1, d)");
  const std::int64_t n = info.shape[0] * info.shape[1];
  WIDEMAX_CHECK(!c.d_given || n == c.d, "--beta: '", c.beta, "' holds ", n, " numbers but --d is ",
                c.d);
  WIDEMAX_CHECK(n >= 1 && n <= 1 << 20, "--beta: '", c.beta, "' holds ", n,
                " numbers; d must be between 1 and 2^20");
  c.d = static_cast<int>(n);
  std::vector<double> beta =
      naming("--beta", [&] { return data::read_npy_rows<double>(path, 0, info.shape[0]); });
  check_finite(beta, "--beta " + c.beta);
  return beta;
}

void read_init(const Config& c, ValueSoftmax& m) {
  const std::filesystem::path dir(c.init_from);
  const int d = m.problem().d;
  for (const auto& [name, cols] : {std::pair<const char*, int>{"V.npy", d}, {"a.npy", 1}}) {
    const auto path = dir / name;
    WIDEMAX_CHECK_HINT(std::filesystem::is_regular_file(path),
                       "the directory must hold V.npy (T, d) and a.npy (T, 1), as written by "
                       "widemax polarize",
                       "--init-from: no file '", path.string(), "'");
    const auto info = naming("--init-from", [&] { return data::read_npy_info(path); });
    WIDEMAX_CHECK_HINT(info.shape[0] == m.problem().T && info.shape[1] == cols,
                       "the files must match --T and d", "--init-from: ", path.string(),
                       " has shape (", info.shape[0], ", ", info.shape[1], "), expected (",
                       m.problem().T, ", ", cols, ")");
  }
  const auto& r = m.range();
  m.V() = naming("--init-from",
                 [&] { return data::read_npy_rows<double>(dir / "V.npy", r.begin, r.end, d); });
  m.a() = naming("--init-from",
                 [&] { return data::read_npy_rows<double>(dir / "a.npy", r.begin, r.end, 1); });
  check_finite(m.V(), "--init-from " + (dir / "V.npy").string());
  check_finite(m.a(), "--init-from " + (dir / "a.npy").string());
}

// Refuses a T whose shard cannot fit before anything is allocated: per token, V, a and their
// gradients are 2 (d + 1) doubles. Collective (the ranks on this node are counted).
void check_memory(const Config& c, const comm::Communicator& world) {
  const int local = world.ranks_on_node();
  const std::int64_t avail = mem_available_bytes();
  if (avail <= 0) return;  // unknown (no /proc/meminfo): let the allocation decide
  const double tokens = std::ceil(static_cast<double>(c.T) / world.size());
  const double need = tokens * 2.0 * (c.d + 1) * sizeof(double);
  const double share = static_cast<double>(avail) / local;
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  WIDEMAX_CHECK_HINT(need <= share, "use more ranks (on more nodes) or a smaller --T", "--T ", c.T,
                     ": each rank needs about ", need / kGiB,
                     " GiB (V, a and their gradients), but only ", share / kGiB,
                     " GiB is available to each of the ", local, " ranks on this node");
}

constexpr EnumName<LrSchedule> kLrSchedules[] = {{LrSchedule::kConstant, "constant"},
                                                 {LrSchedule::kInverseMaxProb, "inverse-max-prob"}};

}  // namespace

LrSchedule parse_lr_schedule(const std::string& s) {
  return parse_enum(kLrSchedules, s, "--lr-schedule", "schedule");
}
std::string to_string(LrSchedule s) {
  return enum_name(kLrSchedules, s);
}

void validate(const Config& c) {
  WIDEMAX_CHECK(c.T >= 1, "--T must be at least 1, got ", c.T);
  WIDEMAX_CHECK_HINT(c.d >= 1, "the value dimension is a positive integer",
                     "--d must be at least 1, got ", c.d);
  WIDEMAX_CHECK_HINT(std::isfinite(c.lr) && c.lr > 0, "give a positive number such as 0.1",
                     "--lr: ", c.lr, " is not a finite positive learning rate");
  WIDEMAX_CHECK(std::isfinite(c.beta_norm) && c.beta_norm > 0, "--beta-norm: ", c.beta_norm,
                " is not a finite positive number");
  WIDEMAX_CHECK(c.beta.empty() || c.beta_norm == 1.0,
                "--beta-norm applies to a random beta only; scale the --beta file instead");
  WIDEMAX_CHECK(c.steps >= 0, "--steps must be >= 0, got ", c.steps);
  WIDEMAX_CHECK(c.log_every >= 0, "--log-every must be >= 0, got ", c.log_every);
  WIDEMAX_CHECK(c.log_per_decade >= 0, "--log-per-decade must be >= 0, got ", c.log_per_decade);
  WIDEMAX_CHECK(std::isfinite(c.v_scale) && c.v_scale >= 0, "--v-scale: ", c.v_scale,
                " is not a finite number >= 0");
  WIDEMAX_CHECK(std::isfinite(c.a_mean), "--a-mean: ", c.a_mean, " is not a finite number");
  WIDEMAX_CHECK(std::isfinite(c.a_noise) && c.a_noise >= 0, "--a-noise: ", c.a_noise,
                " is not a finite number >= 0");
  WIDEMAX_CHECK(c.threads >= 0, "--threads must be >= 0, got ", c.threads);
}

nlohmann::json to_json(const Config& c) {
  return {{"command", "polarize"},
          {"loss", to_string(c.loss)},
          {"T", c.T},
          {"d", c.d},
          {"beta", c.beta.empty() ? "random" : c.beta},
          {"beta_seed", c.beta_seed},
          {"beta_norm", c.beta_norm},
          {"ce_target", to_string(c.ce_target)},
          {"v_scale", c.v_scale},
          {"a_mean", c.a_mean},
          {"a_noise", c.a_noise},
          {"seed", c.seed},
          {"init_from", c.init_from},
          {"lr", c.lr},
          {"lr_schedule", to_string(c.lr_schedule)},
          {"steps", c.steps},
          {"log_every", c.log_every},
          {"log_per_decade", c.log_per_decade},
          {"out", c.run.out},
          {"save", c.run.save},
          {"threads", c.threads}};
}

nlohmann::json to_json(const Plan& p) {
  nlohmann::json j = to_json(p.request);
  j["beta_values"] = p.beta;
  if (!p.p_star.empty()) j["p_star"] = p.p_star;
  j["ranks"] = p.ranks;
  j["threads_resolved"] = p.threads;
  return j;
}

double step_lr(const Config& c, double max_prob) {
  return c.lr_schedule == LrSchedule::kInverseMaxProb ? c.lr / max_prob : c.lr;
}

bool logged_step(std::int64_t step, std::int64_t log_every, std::int64_t per_decade) {
  if (step == 0) return true;
  if (log_every > 0 && step % log_every == 0) return true;
  if (per_decade <= 0) return false;
  const auto bin = [per_decade](std::int64_t s) {
    // The epsilon keeps exact powers of ten (log10(1000) = 2.9999999999999996) in their own bin.
    return static_cast<std::int64_t>(
        std::floor(static_cast<double>(per_decade) * std::log10(static_cast<double>(s)) + 1e-9));
  };
  return step == 1 || bin(step) != bin(step - 1);
}

namespace {

// What a resumed run may change besides the run layer's own keys (run::Run::check_resume): the
// rate when --lr says so, and the ranks.
const std::vector<std::string> kMayChangeOnResume = {"lr", "ranks", "log_per_decade"};

// What the summary needs from the whole trajectory: the first steps at which max_prob and the
// entropy cross 1/2 (of their ranges), the entropy's rises, the flow clock. Carried through
// checkpoints in the manifest (JSON keeps doubles exactly), so a resumed run summarises alike.
struct Trajectory {
  double flow_time = 0;
  std::int64_t first_half_mass = -1, first_half_entropy = -1, increases = 0, last_increase = -1;
  double flow_half_mass = -1, flow_half_entropy = -1, entropy_half_mass = -1;
  std::int64_t recorded = 0;  // steps recorded so far
  double first_loss = 0, first_entropy = 0, first_max_prob = 0, last_entropy = 0;

  void record(std::int64_t step, const StepState& s, double log_T) {
    if (recorded == 0) {
      first_loss = s.loss;
      first_entropy = s.entropy;
      first_max_prob = s.max_prob;
    }
    // A rise counts when it exceeds round-off (the entropy's absolute error is ~1e-16 max|a_j|):
    // at a converged square loss the entropy otherwise jitters in its last bits.
    if (recorded > 0 && s.entropy > last_entropy + 1e-12 * (1 + last_entropy)) {
      ++increases;
      last_increase = step;
    }
    if (first_half_mass < 0 && s.max_prob >= 0.5) {
      first_half_mass = step;
      flow_half_mass = flow_time;
      entropy_half_mass = s.entropy;
    }
    if (first_half_entropy < 0 && s.entropy <= 0.5 * log_T) {
      first_half_entropy = step;
      flow_half_entropy = flow_time;
    }
    last_entropy = s.entropy;
    ++recorded;
  }

  nlohmann::json to_json() const {
    return {{"flow_time", flow_time},
            {"first_half_mass", first_half_mass},
            {"first_half_entropy", first_half_entropy},
            {"increases", increases},
            {"last_increase", last_increase},
            {"flow_half_mass", flow_half_mass},
            {"flow_half_entropy", flow_half_entropy},
            {"entropy_half_mass", entropy_half_mass},
            {"recorded", recorded},
            {"first_loss", first_loss},
            {"first_entropy", first_entropy},
            {"first_max_prob", first_max_prob},
            {"last_entropy", last_entropy}};
  }
  static Trajectory from_json(const nlohmann::json& j) {
    Trajectory t;
    t.flow_time = j.at("flow_time").get<double>();
    t.first_half_mass = j.at("first_half_mass").get<std::int64_t>();
    t.first_half_entropy = j.at("first_half_entropy").get<std::int64_t>();
    t.increases = j.at("increases").get<std::int64_t>();
    t.last_increase = j.at("last_increase").get<std::int64_t>();
    t.flow_half_mass = j.at("flow_half_mass").get<double>();
    t.flow_half_entropy = j.at("flow_half_entropy").get<double>();
    t.entropy_half_mass = j.at("entropy_half_mass").get<double>();
    t.recorded = j.at("recorded").get<std::int64_t>();
    t.first_loss = j.at("first_loss").get<double>();
    t.first_entropy = j.at("first_entropy").get<double>();
    t.first_max_prob = j.at("first_max_prob").get<double>();
    t.last_entropy = j.at("last_entropy").get<double>();
    return t;
  }
};

void check_step(std::int64_t step, const StepState& s) {
  WIDEMAX_CHECK_HINT(std::isfinite(s.loss) && std::isfinite(s.entropy), "lower --lr",
                     "training diverged: the loss is ", s.loss, " and the entropy ", s.entropy,
                     " at step ", step);
}

// The state tensors of a checkpoint: this rank's tokens of V (T, d) and a (T, 1).
template <class P>
std::vector<run::Tensor<P>> state_tensors(P* V, P* a, const model::Range& r, const Config& c) {
  return {{"V", V, r.begin, r.size(), c.T, c.d, true}, {"a", a, r.begin, r.size(), c.T, 1, true}};
}

// Refuses a checkpoint of another problem; the tensors' shapes are checked when they are read.
void check_manifest(const nlohmann::json& m, const std::filesystem::path& ckpt, const Config& c) {
  WIDEMAX_CHECK_HINT(m.value("T", std::int64_t{-1}) == c.T && m.value("d", -1) == c.d &&
                         m.value("loss", "") == to_string(c.loss),
                     "resume with the options the checkpoint was written with (see its "
                     "manifest.json), or start a new run",
                     "--resume: checkpoint ", ckpt.string(), " is for --loss ",
                     m.value("loss", "?"), " --T ", m.value("T", std::int64_t{-1}), " --d ",
                     m.value("d", -1), ", but this run has --loss ", to_string(c.loss), " --T ",
                     c.T, " --d ", c.d);
}

// The summary of a run: the problem, the start and end of the trajectory, and the figures the
// Trajectory carried through it.
nlohmann::json summarize(const Config& c, const Problem& p, const Trajectory& traj,
                         const StepState& fin, const nlohmann::json& last) {
  const double log_T = std::log(static_cast<double>(c.T));
  return {{"loss_name", to_string(c.loss)},
          {"T", c.T},
          {"d", c.d},
          {"lr", c.lr},
          {"lr_schedule", to_string(c.lr_schedule)},
          {"steps", c.steps},
          {"flow_time", traj.flow_time},
          {"initial_loss", traj.first_loss},
          {"initial_entropy", traj.first_entropy},
          {"initial_max_prob", traj.first_max_prob},
          {"final_loss", fin.loss},
          {"entropy", fin.entropy},
          {"max_prob", fin.max_prob},
          {"max_entropy", log_T},
          {"entropy_ratio", c.T > 1 ? fin.entropy / log_T : 0.0},
          {"margin", fin.margin},
          {"argmax", last["argmax"]},
          {"grad_norm", last["grad_norm"]},
          {"y_hat", fin.y},
          {"beta", p.beta},
          {"first_step_max_prob_half", traj.first_half_mass},
          {"first_step_entropy_half", traj.first_half_entropy},
          {"flow_time_max_prob_half", traj.flow_half_mass},
          {"flow_time_entropy_half", traj.flow_half_entropy},
          {"entropy_at_max_prob_half", traj.entropy_half_mass},
          {"entropy_increase_steps", traj.increases},
          {"last_entropy_increase_step", traj.last_increase}};
}

}  // namespace

Result run_polarize(const Config& in, const comm::Communicator& world, int threads,
                    const nlohmann::json& runtime, bool write_outputs) {
  Config request = in;
  validate(request);
  Stopwatch wall;
  const bool rank0 = world.rank() == 0;
  run::Run run(request.run, "polarize", world, runtime, write_outputs, request.steps);
  if (run.writes()) request.run.out = run.path().string();

  // Resolve: beta (and d, from a --beta file), the cross-entropy target, the memory check.
  Problem p;
  p.beta = load_beta(request);
  check_memory(request, world);
  p.T = request.T;
  p.d = request.d;
  p.loss = request.loss;
  if (p.loss == Loss::kCrossEntropy) p.p_star = ce_target(p.beta, request.ce_target);
  ValueSoftmax m(p, world);
  if (request.init_from.empty())
    init_params(InitSpec{request.v_scale, request.a_mean, request.a_noise, request.seed}, m.range(),
                request.d, m.V(), m.a());
  else
    read_init(request, m);

  // Resume: V, a and the trajectory's summary figures at the checkpoint's step.
  Trajectory traj;
  std::int64_t s0 = 0;
  const auto ckpt = run.resume_point();
  nlohmann::json man;
  if (ckpt) {
    man = run::read_manifest(*ckpt);
    check_manifest(man, *ckpt, request);
    run::read_tensors<double>(world, *ckpt, man,
                              state_tensors(m.V().data(), m.a().data(), m.range(), request));
    traj = Trajectory::from_json(man.at("trajectory"));
    s0 = man["step"].get<std::int64_t>();
    // The interrupted run's rate, unless --lr says otherwise.
    if (!request.lr_given && man.contains("config"))
      request.lr = man["config"].value("lr", request.lr);
  }
  const Plan plan{request, p.beta, p.p_star, world.size(), threads};
  const Config& c = plan.request;  // from here on the run reads the plan
  if (ckpt) {
    run.check_resume(man, *ckpt, to_json(plan), kMayChangeOnResume);
    run.resumed(*ckpt, man, s0);
  }

  run.write_config(to_json(plan),
                   run::absolute_inputs({{"beta", c.beta}, {"init_from", c.init_from}}));
  if (run.writes() && rank0) data::write_npy(run.path() / "beta.npy", p.beta.data(), c.d, 1);
  log::info(cat("widemax polarize: ", to_string(c.loss), " loss, T=", c.T, " d=", c.d, " lr=", c.lr,
                c.lr_schedule == LrSchedule::kConstant ? " " : " / max_prob ", c.steps,
                " steps on ", world.size(), " rank", world.size() == 1 ? "" : "s",
                run.writes() ? " -> " + run.path().string() : std::string()));

  Result res;
  res.entropy.reserve(static_cast<std::size_t>(c.steps - s0 + 1));
  res.max_prob.reserve(static_cast<std::size_t>(c.steps - s0 + 1));
  res.loss.reserve(static_cast<std::size_t>(c.steps - s0 + 1));
  std::vector<double> step_times;
  const double log_T = std::log(static_cast<double>(c.T));
  Stopwatch clock;

  // Every rank calls this at the same steps: it issues collectives.
  auto log_metrics = [&](std::int64_t step, const StepState& s) {
    const auto [gv, ga] = m.grad_norms();
    nlohmann::json j = {{"step", step},
                        {"loss", s.loss},
                        {"entropy", s.entropy},
                        {"max_prob", s.max_prob},
                        {"margin", s.margin},
                        {"grad_norm", std::hypot(gv, ga)},
                        {"grad_norm_V", gv},
                        {"grad_norm_a", ga},
                        {"argmax", m.argmax()},
                        {"lr", step_lr(c, s.max_prob)},
                        {"flow_time", traj.flow_time},
                        {"elapsed_s", clock.seconds()}};
    run.append_metrics(j);
    return j;
  };
  auto record = [&](std::int64_t step, const StepState& s) {
    traj.record(step, s, log_T);
    res.flow_time.push_back(traj.flow_time);
    res.entropy.push_back(s.entropy);
    res.max_prob.push_back(s.max_prob);
    res.loss.push_back(s.loss);
  };
  // The state at `step` before its update, with the trajectory up to step - 1.
  auto checkpoint = [&](std::int64_t step) {
    run.checkpoint<double>(step,
                           state_tensors<const double>(m.V().data(), m.a().data(), m.range(), c),
                           {{"T", c.T},
                            {"d", c.d},
                            {"loss", to_string(c.loss)},
                            {"trajectory", traj.to_json()},
                            {"config", to_json(plan)}});
  };

  for (std::int64_t step = s0; step < c.steps; ++step) {
    Stopwatch sw;
    const StepState& s = m.forward_backward();
    check_step(step, s);
    // The loss and entropy are reduced: every rank agrees on them; the signal may not.
    const int signal = run.agree(step, true, "lower --lr");
    if (run.checkpoint_due(step, s0) || signal) checkpoint(step);
    if (signal) {
      run.preempted(signal, step);
      res.preempted = true;
      return res;
    }
    record(step, s);
    const bool logged = logged_step(step, c.log_every, c.log_per_decade);
    if (logged) log_metrics(step, s);
    const double lr = step_lr(c, s.max_prob);
    m.apply(lr);
    traj.flow_time += lr;
    step_times.push_back(sw.seconds());
    run.progress().update(step + 1, s.loss, static_cast<double>(c.T) / step_times.back(), logged);
  }
  const double train_s = clock.seconds();
  const StepState& fin = m.forward_backward();
  check_step(c.steps, fin);
  if (run.spec().checkpoint_every > 0 && c.steps > s0) checkpoint(c.steps);
  record(c.steps, fin);
  const nlohmann::json last = log_metrics(c.steps, fin);
  run.progress().finish();

  if (run.writes() && c.run.save) {
    comm::write_npy_rows(world, run.path() / "V.npy", m.V().data(), m.range().begin,
                         m.range().size(), c.T, c.d);
    comm::write_npy_rows(world, run.path() / "a.npy", m.a().data(), m.range().begin,
                         m.range().size(), c.T, 1);
  }

  nlohmann::json s = summarize(c, p, traj, fin, last);
  s["threads"] = threads;
  s.update(run::timings(wall.seconds(), train_s, m.comm_seconds(), step_times));
  res.summary = run.finish(std::move(s));
  if (run.writes()) {
    res.run_dir = run.path().string();
    log::info(cat("entropy ", traj.first_entropy, " -> ", fin.entropy, " nats (max log T = ", log_T,
                  "), max_prob ", traj.first_max_prob, " -> ", fin.max_prob, ", loss ",
                  traj.first_loss, " -> ", fin.loss, ", run directory ", res.run_dir));
  }
  return res;
}

}  // namespace widemax::polarize
