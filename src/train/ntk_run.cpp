// `widemax ntk`: the empirical NTK without training, and the NTK samples. See ntk_run.hpp. The NTK
// is computed exactly as during training (Trainer::ntk), so the two cannot disagree; so is the NTK
// at the perturbed weights of --perturb (the perturbation lemma's H(W_0 + Delta)), by the same call
// after the kernel model::add_sphere_perturbation has moved every neuron by R.
#include "widemax/train/ntk_run.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/data/npy.hpp"
#include "widemax/ntk/ntk.hpp"
#include "widemax/run/run.hpp"
#include "widemax/train/batches.hpp"
#include "widemax/train/checkpoint.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

namespace {

template <class T>
nlohmann::json ntk_impl(const Config& c_in, const comm::Grid& grid, int threads,
                        const nlohmann::json& runtime) {
  Config c = c_in;
  const bool rank0 = grid.world().rank() == 0;
  Stopwatch wall;
  run::Run run(c.run, "ntk", grid.world(), runtime, /*write_outputs=*/true, 0);
  c.run.out = run.path().string();
  const std::filesystem::path dir = run.path();

  check_memory_before_loading(c, grid, threads);
  const LocalData data = load_data(c.data, c.net.d_out, c.net.d_out_given, grid);
  c.data.n = data.train.n_global;
  c.data.d = data.d;
  c.net.d_out = data.d_out;
  // --sigma and --init from the data as for `widemax train`, so that both see the same network.
  std::string sigma_source, init_source;
  resolve_data_defaults(c.net, c.data, mean_square_norm(data, grid), sigma_source, init_source);
  const std::vector<std::int64_t> ids =
      ntk_sample_ids(c.ntk_samples, c.data.data_seed, data.train_ids_global, data.d_out);
  check_memory(c.net, c.ntk_every > 0 || c.net.lr.automatic, grid, data.d, data.d_out,
               data.train.size(), static_cast<std::int64_t>(ids.size()), threads);
  nlohmann::json plan = to_json(c);
  plan["sigma_source"] = sigma_source;
  plan["init_source"] = init_source;
  plan["perturb"] = c.perturb;
  plan["perturb_seed"] = c.perturb_seed;
  run.write_config(plan, input_paths(c));

  Trainer<T> tr(c.net, grid, data, threads);
  tr.set_ntk_samples(ids);
  log::info(cat("widemax ntk: ", model::to_string(c.net.activation), " m=", c.net.width, " on ",
                ids.size(), " samples x ", c.net.d_out, " outputs: H is ", tr.ntk_size(), " x ",
                tr.ntk_size()));
  Stopwatch sw;
  const std::vector<double> H = tr.ntk();
  const double ntk_s = sw.seconds();
  const std::int64_t N = tr.ntk_size();
  // H(W_0 + Delta): Delta is a pure function of (perturbation key, neuron), keyed like W_0 (with
  // the width under --seed-scope width), so every grid adds the same Delta.
  std::vector<double> Hp;
  if (c.perturb > 0) {
    const std::uint64_t key = model::init_key(
        model::InitSpec{c.net.init, c.net.sigma, c.perturb_seed, c.net.seed_scope}, c.net.width);
    model::add_sphere_perturbation(tr.shape(), key, c.perturb, tr.params_mut());
    Hp = tr.ntk();
  }
  if (c.run.save) save_parameters(run, grid, tr);
  std::vector<double> ev;
  nlohmann::json s;
  if (rank0) {
    ev = ntk::symmetric_eigenvalues(H, N);
    data::write_npy(dir / "H.npy", H.data(), N, N);
    data::write_npy(dir / "eigenvalues.npy", ev.data(), N, 1);
    std::ostringstream spec, samples;
    spec << "index,eigenvalue\n";
    spec.precision(17);
    for (std::int64_t q = 0; q < N; ++q) spec << q << "," << ev[q] << "\n";
    write_file_atomic(dir / "spectrum.csv", spec.str());
    samples << "ntk_index,row\n";
    for (std::size_t q = 0; q < ids.size(); ++q) samples << q << "," << ids[q] << "\n";
    write_file_atomic(dir / "ntk_samples.csv", samples.str());
    s = {{"lambda_min", ev.front()},
         {"lambda_max", ev.back()},
         {"trace", std::accumulate(ev.begin(), ev.end(), 0.0)},
         {"condition_number", ev.front() > 0 ? ev.back() / ev.front() : -1.0},
         {"size", N},
         {"ntk_samples", ids.size()},
         {"width", c.net.width},
         {"activation", model::to_string(c.net.activation)},
         {"scale", model::to_string(c.net.scale)},
         {"precision", to_string(c.net.precision)},
         {"ranks", grid.world().size()},
         {"grid", grid.name()},
         {"ntk_s", ntk_s},
         {"perturb_radius", c.perturb},
         {"wall_s", wall.seconds()}};
    if (c.perturb > 0) {
      // The perturbation lemma's quantity ||H(W_0 + Delta) - H(W_0)||, in Frobenius norm, relative
      // to ||H(W_0)||_F, and spectral (the difference is symmetric: its largest |eigenvalue|).
      std::vector<double> diff(H.size());
      for (std::size_t q = 0; q < H.size(); ++q) diff[q] = Hp[q] - H[q];
      const auto dev = ntk::symmetric_eigenvalues(diff, N);
      const auto pev = ntk::symmetric_eigenvalues(Hp, N);
      const double fro = ntk::frobenius(diff);
      s["perturb_seed"] = c.perturb_seed;
      s["ntk_perturb_diff_fro"] = fro;
      s["ntk_perturb_diff_rel"] = fro / ntk::frobenius(H);
      s["ntk_perturb_diff_spec"] = std::max(std::abs(dev.front()), std::abs(dev.back()));
      s["lambda_min_perturbed"] = pev.front();
      s["lambda_max_perturbed"] = pev.back();
      data::write_npy(dir / "H_perturbed.npy", Hp.data(), N, N);
      log::info(cat("--perturb ", c.perturb, ": ||H(W_0 + Delta) - H(W_0)||_F = ", fro, " (",
                    s["ntk_perturb_diff_rel"].get<double>(), " relative), spectral ",
                    s["ntk_perturb_diff_spec"].get<double>()));
    }
    log::info(cat("lambda_min ", ev.front(), ", lambda_max ", ev.back(), ", trace ",
                  s["trace"].get<double>(), " -> ", dir.string()));
  }
  s = run.finish(std::move(s));  // rank 0's figures; summary.json is written by rank 0 only
  grid.world().barrier();        // the files are complete before any rank returns
  return s;
}

}  // namespace

std::vector<std::int64_t> ntk_sample_ids(std::int64_t ntk_samples, std::uint64_t data_seed,
                                         const std::vector<std::int64_t>& train_ids,
                                         std::int64_t d_out) {
  const auto n = static_cast<std::int64_t>(train_ids.size());
  // Every rank holds every training id: the refusal is on all ranks.
  WIDEMAX_CHECK_ALL_HINT(ntk_samples <= n, "choose at most the number of training samples",
                         "--ntk-samples ", ntk_samples, " is larger than the ", n,
                         " training samples");
  std::int64_t k = ntk_samples;
  if (k == 0) k = n * d_out <= 1024 ? n : std::max<std::int64_t>(1, 1024 / d_out);
  if (k == n) return train_ids;
  const auto perm = epoch_permutation(n, data_seed, -1);
  std::vector<std::int64_t> ids;
  for (std::int64_t q = 0; q < k; ++q) ids.push_back(train_ids[perm[q]]);
  std::sort(ids.begin(), ids.end());
  return ids;
}

nlohmann::json run_ntk(const Config& c, const comm::Grid& grid, int threads,
                       const nlohmann::json& runtime) {
  validate(c);
  if (c.net.precision == Precision::kFp32) return ntk_impl<float>(c, grid, threads, runtime);
  return ntk_impl<double>(c, grid, threads, runtime);
}

}  // namespace widemax::train
