// `widemax ntk`: the empirical NTK without training. See run_ntk in loop.hpp. The NTK is computed
// exactly as during training (Trainer::ntk), so the two cannot disagree.
#include <numeric>
#include <sstream>

#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"
#include "widemax/core/log.hpp"
#include "widemax/core/timer.hpp"
#include "widemax/data/npy.hpp"
#include "widemax/ntk/ntk.hpp"
#include "widemax/run/run.hpp"
#include "widemax/train/loop.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

namespace {

template <class T>
nlohmann::json ntk_impl(const Config& c_in, const comm::Grid& grid, int threads,
                        const nlohmann::json& runtime) {
  Config c = c_in;
  const bool rank0 = grid.world().rank() == 0;
  Stopwatch wall;
  run::Run run(run_spec(c), "ntk", grid.world(), runtime, /*write_outputs=*/true, 0);
  c.out = run.path().string();
  const std::filesystem::path dir = run.path();

  const LocalData data = load_data(c, grid);
  c.n = data.train.n_global;
  c.d = data.d;
  c.d_out = data.d_out;
  const std::vector<std::int64_t> ids = ntk_sample_ids(c, data.train_ids_global, data.d_out);
  check_memory(c, grid, data.d, data.d_out, data.train.size(),
               static_cast<std::int64_t>(ids.size()), threads);
  run.write_config(to_json(c));

  Trainer<T> tr(c, grid, data, threads);
  tr.set_ntk_samples(ids);
  log::info(cat("widemax ntk: ", c.activation, " m=", c.width, " on ", ids.size(), " samples x ",
                c.d_out, " outputs: H is ", tr.ntk_size(), " x ", tr.ntk_size()));
  Stopwatch sw;
  const std::vector<double> H = tr.ntk();
  const double ntk_s = sw.seconds();
  const std::int64_t N = tr.ntk_size();
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
         {"width", c.width},
         {"activation", c.activation},
         {"scale", c.scale},
         {"precision", c.precision},
         {"ranks", grid.world().size()},
         {"grid", grid.name()},
         {"ntk_s", ntk_s},
         {"wall_s", wall.seconds()}};
    log::info(cat("lambda_min ", ev.front(), ", lambda_max ", ev.back(), ", trace ",
                  s["trace"].get<double>(), " -> ", dir.string()));
  }
  s = run.finish(std::move(s));  // rank 0's figures; summary.json is written by rank 0 only
  grid.world().barrier();        // the files are complete before any rank returns
  return s;
}

}  // namespace

nlohmann::json run_ntk(const Config& c, const comm::Grid& grid, int threads,
                       const nlohmann::json& runtime) {
  validate(c);
  if (c.precision == "fp32") return ntk_impl<float>(c, grid, threads, runtime);
  return ntk_impl<double>(c, grid, threads, runtime);
}

}  // namespace widemax::train
