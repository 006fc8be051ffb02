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
#include "widemax/train/progress.hpp"
#include "widemax/train/run_dir.hpp"

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
          {"out", c.run.out},
          {"save", c.run.save},
          {"threads", c.threads}};
}

double step_lr(const Config& c, double max_prob) {
  return c.lr_schedule == LrSchedule::kInverseMaxProb ? c.lr / max_prob : c.lr;
}

bool logged_step(std::int64_t step, std::int64_t log_every) {
  if (step == 0) return true;
  if (log_every > 0) return step % log_every == 0;
  const auto bin = [](std::int64_t s) {
    // The epsilon keeps exact powers of ten (log10(1000) = 2.9999999999999996) in their own bin.
    return static_cast<std::int64_t>(std::floor(20.0 * std::log10(static_cast<double>(s)) + 1e-9));
  };
  return step == 1 || bin(step) != bin(step - 1);
}

Result run_polarize(const Config& c_in, const comm::Communicator& world, int threads,
                    const nlohmann::json& runtime, bool write_outputs) {
  Config c = c_in;
  validate(c);
  Stopwatch wall;
  const bool rank0 = world.rank() == 0;
  std::unique_ptr<train::RunDir> dir;
  if (write_outputs) {
    dir = train::open_run_dir(c.run.out, "polarize", world);
    c.run.out = dir->path().string();
  }

  Problem p;
  p.beta = load_beta(c);
  check_memory(c, world);
  p.T = c.T;
  p.d = c.d;
  p.loss = c.loss;
  if (p.loss == Loss::kCrossEntropy) p.p_star = ce_target(p.beta, c.ce_target);
  ValueSoftmax m(p, world);
  if (c.init_from.empty())
    init_params(InitSpec{c.v_scale, c.a_mean, c.a_noise, c.seed}, m.range(), c.d, m.V(), m.a());
  else
    read_init(c, m);

  if (dir) {
    nlohmann::json cfg = to_json(c);
    cfg["beta_values"] = p.beta;
    if (!p.p_star.empty()) cfg["p_star"] = p.p_star;
    cfg["ranks"] = world.size();
    cfg["threads_resolved"] = threads;
    dir->write_json("config.json", cfg);
    if (rank0) data::write_npy(dir->path() / "beta.npy", p.beta.data(), c.d, 1);
  }
  log::info(cat("widemax polarize: ", to_string(c.loss), " loss, T=", c.T, " d=", c.d, " lr=", c.lr,
                c.lr_schedule == LrSchedule::kConstant ? " " : " / max_prob ", c.steps,
                " steps on ", world.size(), " rank", world.size() == 1 ? "" : "s",
                dir ? " -> " + dir->path().string() : std::string()));

  Result res;
  res.entropy.reserve(static_cast<std::size_t>(c.steps + 1));
  res.max_prob.reserve(static_cast<std::size_t>(c.steps + 1));
  res.loss.reserve(static_cast<std::size_t>(c.steps + 1));
  train::Progress progress(write_outputs && c.run.progress && rank0, c.steps);
  std::vector<double> step_times;
  step_times.reserve(static_cast<std::size_t>(c.steps));
  const double log_T = std::log(static_cast<double>(c.T));
  std::int64_t first_half_mass = -1, first_half_entropy = -1, increases = 0, last_increase = -1;
  double flow_time = 0, flow_half_mass = -1, flow_half_entropy = -1, entropy_half_mass = -1;
  Stopwatch clock;

  // Every rank calls this at the same steps: it issues collectives.
  auto log_metrics = [&](std::int64_t step, const StepState& s) {
    const auto [gv, ga] = m.grad_norms();
    nlohmann::json j = {{"step", step},           {"loss", s.loss},
                        {"entropy", s.entropy},   {"max_prob", s.max_prob},
                        {"margin", s.margin},     {"grad_norm", std::hypot(gv, ga)},
                        {"grad_norm_V", gv},      {"grad_norm_a", ga},
                        {"argmax", m.argmax()},   {"lr", step_lr(c, s.max_prob)},
                        {"flow_time", flow_time}, {"elapsed_s", clock.seconds()}};
    if (dir) dir->append_metrics(j);
    return j;
  };
  auto record = [&](std::int64_t step, const StepState& s) {
    WIDEMAX_CHECK_HINT(std::isfinite(s.loss) && std::isfinite(s.entropy), "lower --lr",
                       "training diverged: the loss is ", s.loss, " and the entropy ", s.entropy,
                       " at step ", step);
    // A rise counts when it exceeds round-off (the entropy's absolute error is ~1e-16 max|a_j|):
    // at a converged square loss the entropy otherwise jitters in its last bits.
    if (!res.entropy.empty() && s.entropy > res.entropy.back() + 1e-12 * (1 + res.entropy.back())) {
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
    res.flow_time.push_back(flow_time);
    res.entropy.push_back(s.entropy);
    res.max_prob.push_back(s.max_prob);
    res.loss.push_back(s.loss);
  };

  for (std::int64_t step = 0; step < c.steps; ++step) {
    Stopwatch sw;
    const StepState& s = m.forward_backward();
    record(step, s);
    const bool logged = logged_step(step, c.log_every);
    if (logged) log_metrics(step, s);
    const double lr = step_lr(c, s.max_prob);
    m.apply(lr);
    flow_time += lr;
    step_times.push_back(sw.seconds());
    progress.update(step + 1, s.loss, static_cast<double>(c.T) / step_times.back(), logged);
  }
  const double train_s = clock.seconds();
  const StepState& fin = m.forward_backward();
  record(c.steps, fin);
  const nlohmann::json last = log_metrics(c.steps, fin);
  progress.finish();

  if (dir && c.run.save) {
    comm::write_npy_rows(world, dir->path() / "V.npy", m.V().data(), m.range().begin,
                         m.range().size(), c.T, c.d);
    comm::write_npy_rows(world, dir->path() / "a.npy", m.a().data(), m.range().begin,
                         m.range().size(), c.T, 1);
  }

  const double med = median(step_times);
  nlohmann::json s = {{"loss_name", to_string(c.loss)},
                      {"T", c.T},
                      {"d", c.d},
                      {"lr", c.lr},
                      {"lr_schedule", to_string(c.lr_schedule)},
                      {"steps", c.steps},
                      {"flow_time", flow_time},
                      {"initial_loss", res.loss.front()},
                      {"initial_entropy", res.entropy.front()},
                      {"initial_max_prob", res.max_prob.front()},
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
                      {"first_step_max_prob_half", first_half_mass},
                      {"first_step_entropy_half", first_half_entropy},
                      {"flow_time_max_prob_half", flow_half_mass},
                      {"flow_time_entropy_half", flow_half_entropy},
                      {"entropy_at_max_prob_half", entropy_half_mass},
                      {"entropy_increase_steps", increases},
                      {"last_entropy_increase_step", last_increase},
                      {"ranks", world.size()},
                      {"threads", threads},
                      {"wall_s", wall.seconds()},
                      {"train_s", train_s},
                      {"comm_s", m.comm_seconds()},
                      {"step_time_median_s", med},
                      {"hosts", world.allgather(hostname())},
                      {"runtime", runtime}};
  nlohmann::json slurm;
  for (const char* k : {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
                        "SLURM_JOB_NODELIST", "SLURM_NTASKS"})
    if (const char* v = std::getenv(k)) slurm[k] = v;
  if (!slurm.empty()) s["slurm"] = slurm;
  if (dir) {
    dir->write_json("summary.json", s);
    res.run_dir = dir->path().string();
    log::info(cat("entropy ", res.entropy.front(), " -> ", fin.entropy, " nats (max log T = ",
                  log_T, "), max_prob ", res.max_prob.front(), " -> ", fin.max_prob, ", loss ",
                  res.loss.front(), " -> ", fin.loss, ", run directory ", dir->path().string()));
  }
  res.summary = std::move(s);
  return res;
}

}  // namespace widemax::polarize
