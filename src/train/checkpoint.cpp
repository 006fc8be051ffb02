// The network's checkpoint. See checkpoint.hpp.
#include "widemax/train/checkpoint.hpp"

#include <type_traits>

#include "widemax/comm/npy_io.hpp"
#include "widemax/core/error.hpp"

namespace widemax::train {

namespace fs = std::filesystem;

namespace {

// The tensors of the network's state, from a Trainer<T> (to load into) or a const Trainer<T>
// (to save). Grid columns hold copies of the same neurons: only grid row 0 writes them.
template <class Tr, class V>
auto tensors_of(Tr& tr, const comm::Grid& grid, V* W0) {
  constexpr bool loading = !std::is_const_v<Tr>;
  auto& p = [&]() -> auto& {
    if constexpr (loading)
      return tr.params_mut();
    else
      return tr.params();
  }
  ();
  using P = std::remove_reference_t<decltype(*p.W.data())>;
  const std::int64_t d = tr.shape().d, d_out = tr.shape().d_out, m = tr.shape().m;
  const bool writer = grid.data_index() == 0;
  auto tensor = [&](std::string name, P* data, std::int64_t cols) {
    return run::Tensor<P>{std::move(name), data, p.neurons.begin, p.neurons.size(), m, cols,
                          writer};
  };
  std::vector<run::Tensor<P>> out = {tensor("W", p.W.data(), d), tensor("A", p.A.data(), d_out)};
  for (int k = 0; k < tr.optimizer_W().slots(); ++k)
    out.push_back(tensor("opt_W_" + std::to_string(k), tr.optimizer_W().slot(k).data(), d));
  if (tr.trains_A())
    for (int k = 0; k < tr.optimizer_A().slots(); ++k)
      out.push_back(tensor("opt_A_" + std::to_string(k), tr.optimizer_A().slot(k).data(), d_out));
  if (W0 && !W0->empty()) out.push_back(tensor("W0", W0->data(), d));
  return out;
}

}  // namespace

template <class T>
void save_network(run::Run& run, const comm::Grid& grid, std::int64_t step, const Trainer<T>& tr,
                  const NetSpec& c, const nlohmann::json& extra, const std::vector<T>* W0) {
  nlohmann::json m = extra;
  m["width"] = c.width;
  m["d"] = tr.shape().d;
  m["d_out"] = tr.shape().d_out;
  m["precision"] = to_string(c.precision);
  m["optimizer"] = to_string(c.optimizer.kind);
  m["train_a"] = c.train_a;
  m["grid"] = grid.name();
  run.checkpoint<T>(step, tensors_of(tr, grid, W0), m);
}

template <class T>
nlohmann::json restore_network(const comm::Grid& grid, const fs::path& ckpt, Trainer<T>& tr,
                               const NetSpec& c, std::vector<T>* W0) {
  const nlohmann::json m = run::read_manifest(ckpt);
  const char* hint =
      "resume with the model options the checkpoint was written with (see its "
      "manifest.json), or start a new run";
  const std::int64_t mw = m.value("width", -1), md = m.value("d", -1), mo = m.value("d_out", -1);
  WIDEMAX_CHECK_HINT(mw == c.width && md == tr.shape().d && mo == tr.shape().d_out, hint,
                     "--resume: checkpoint ", ckpt.string(), " is for a model of shape (width ", mw,
                     ", d ", md, ", d_out ", mo, "), but this run has (width ", c.width, ", d ",
                     tr.shape().d, ", d_out ", tr.shape().d_out, ")");
  WIDEMAX_CHECK_HINT(m.value("optimizer", "") == to_string(c.optimizer.kind) &&
                         m.value("train_a", false) == c.train_a,
                     hint, "--resume: checkpoint ", ckpt.string(), " was written with --optimizer ",
                     m.value("optimizer", "?"), m.value("train_a", false) ? " --train-a" : "",
                     ", but this run uses --optimizer ", to_string(c.optimizer.kind),
                     c.train_a ? " --train-a" : "");
  WIDEMAX_CHECK_HINT(m.value("precision", "") == to_string(c.precision), hint,
                     "--resume: checkpoint ", ckpt.string(), " was written with --precision ",
                     m.value("precision", "?"), ", but this run uses --precision ",
                     to_string(c.precision));
  std::vector<T>* w0 = W0;
  if (w0) {
    if (m["tensors"].contains("W0"))
      w0->assign(static_cast<std::size_t>(tr.params().neurons.size() * tr.shape().d), T(0));
    else
      w0 = nullptr;
  }
  run::read_tensors<T>(grid.world(), ckpt, m, tensors_of(tr, grid, w0));
  return m;
}

template <class T>
void save_parameters(const run::Run& run, const comm::Grid& grid, const Trainer<T>& tr) {
  if (!run.writes()) return;
  const auto& p = tr.params();
  const model::Shape& s = tr.shape();
  const std::int64_t rows = grid.data_index() == 0 ? p.neurons.size() : 0;
  comm::write_npy_rows(grid.world(), run.path() / "W.npy", p.W.data(), p.neurons.begin, rows, s.m,
                       s.d);
  comm::write_npy_rows(grid.world(), run.path() / "A.npy", p.A.data(), p.neurons.begin, rows, s.m,
                       s.d_out);
}

#define WIDEMAX_INSTANTIATE(T)                                                                 \
  template void save_network<T>(run::Run&, const comm::Grid&, std::int64_t, const Trainer<T>&, \
                                const NetSpec&, const nlohmann::json&, const std::vector<T>*); \
  template nlohmann::json restore_network<T>(const comm::Grid&, const fs::path&, Trainer<T>&,  \
                                             const NetSpec&, std::vector<T>*);                 \
  template void save_parameters<T>(const run::Run&, const comm::Grid&, const Trainer<T>&);
WIDEMAX_INSTANTIATE(double)
WIDEMAX_INSTANTIATE(float)
#undef WIDEMAX_INSTANTIATE

}  // namespace widemax::train
