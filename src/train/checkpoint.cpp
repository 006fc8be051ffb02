// Checkpoints. See checkpoint.hpp.
#include "widemax/train/checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <type_traits>

#include "widemax/comm/npy_io.hpp"
#include "widemax/core/checksum.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"
#include "widemax/data/npy.hpp"

namespace widemax::train {

namespace fs = std::filesystem;

namespace {

constexpr int kFormat = 1;

// One tensor of a checkpoint: this rank's rows of a (m, cols) neuron-major array. P is T when
// reading into the trainer, const T when writing from it.
template <class P>
struct Slot {
  std::string name;
  P* data;
  std::int64_t cols;
};

// The tensors of a checkpoint, from a Trainer<T> (to load into) or a const Trainer<T> (to save).
template <class Tr, class V>
auto slots_of(Tr& tr, V* W0) {
  constexpr bool loading = !std::is_const_v<Tr>;
  auto& p = [&]() -> auto& {
    if constexpr (loading)
      return tr.params_mut();
    else
      return tr.params();
  }
  ();
  using P = std::remove_reference_t<decltype(*p.W.data())>;
  const std::int64_t d = tr.shape().d, d_out = tr.shape().d_out;
  std::vector<Slot<P>> out = {{"W", p.W.data(), d}, {"A", p.A.data(), d_out}};
  for (int k = 0; k < tr.optimizer_W().slots(); ++k)
    out.push_back({"opt_W_" + std::to_string(k), tr.optimizer_W().slot(k).data(), d});
  if (tr.trains_A())
    for (int k = 0; k < tr.optimizer_A().slots(); ++k)
      out.push_back({"opt_A_" + std::to_string(k), tr.optimizer_A().slot(k).data(), d_out});
  if (W0 && !W0->empty()) out.push_back({"W0", W0->data(), d});
  return out;
}

std::string step_name(std::int64_t step) {
  std::ostringstream os;
  os << "step_" << std::setw(10) << std::setfill('0') << step;
  return os.str();
}

std::string hex(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Checksum of a row-split tensor: ranks of grid row 0 hold each neuron once.
template <class T>
std::uint64_t global_checksum(const comm::Grid& grid, const T* local, std::int64_t row_begin,
                              std::int64_t rows, std::int64_t cols) {
  const std::uint64_t part =
      grid.data_index() == 0 ? checksum_partial(local, rows * cols, row_begin * cols) : 0;
  return grid.world().allreduce_sum(part);
}

}  // namespace

template <class T>
fs::path write_checkpoint(const comm::Grid& grid, const fs::path& run_dir, std::int64_t step,
                          const Trainer<T>& tr, const Config& c, const nlohmann::json& extra,
                          const std::vector<T>* W0, int keep) {
  const bool rank0 = grid.world().rank() == 0;
  const fs::path root = run_dir / "checkpoints";
  const fs::path final_dir = root / step_name(step);
  const fs::path tmp = root / (step_name(step) + ".tmp");
  if (rank0) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    WIDEMAX_CHECK(!ec, "checkpoint: cannot create '", tmp.string(), "': ", ec.message());
  }
  grid.world().barrier();
  const model::Range r = tr.params().neurons;
  const bool writes = grid.data_index() == 0;
  nlohmann::json tensors;
  try {
    for (const auto& s : slots_of(tr, W0)) {
      const fs::path file = tmp / (s.name + ".npy");
      comm::write_npy_rows(grid.world(), file, s.data, r.begin, writes ? r.size() : 0, c.net.width,
                           s.cols);
      tensors[s.name] = {
          {"file", s.name + ".npy"},
          {"shape", {c.net.width, s.cols}},
          {"checksum", hex(global_checksum(grid, s.data, r.begin, r.size(), s.cols))}};
    }
  } catch (const Error&) {
    // write_npy_rows fails on every rank alike; drop the partial checkpoint before reporting.
    std::error_code ec;
    if (rank0) fs::remove_all(tmp, ec);
    throw;
  }
  if (rank0) {
    nlohmann::json m = extra;
    m["format"] = kFormat;
    m["step"] = step;
    m["width"] = c.net.width;
    m["d"] = tr.shape().d;
    m["d_out"] = tr.shape().d_out;
    m["precision"] = to_string(c.net.precision);
    m["optimizer"] = to_string(c.net.optimizer.kind);
    m["train_a"] = c.net.train_a;
    m["ranks"] = grid.world().size();
    m["grid"] = std::to_string(grid.p_data()) + "x" + std::to_string(grid.p_width());
    m["config"] = to_json(c);
    m["tensors"] = tensors;
    m["data_order"] = {{"data_seed", c.data.data_seed},
                       {"batch", c.batch},
                       {"note", "batches are a pure function of (data seed, step)"}};
    m["written"] = static_cast<std::int64_t>(std::time(nullptr));
    write_file_atomic(tmp / "manifest.json", m.dump(2) + "\n");
    std::error_code ec;
    fs::remove_all(final_dir, ec);
    fs::rename(tmp, final_dir, ec);
    WIDEMAX_CHECK(!ec, "checkpoint: cannot rename '", tmp.string(), "': ", ec.message());
    // Keep the newest `keep` complete checkpoints.
    std::vector<fs::path> all;
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && e.path().extension() != ".tmp" &&
          e.path().filename().string().rfind("step_", 0) == 0)
        all.push_back(e.path());
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; keep > 0 && i + static_cast<std::size_t>(keep) < all.size(); ++i)
      fs::remove_all(all[i], ec);
  }
  grid.world().barrier();
  return final_dir;
}

std::optional<fs::path> find_checkpoint(const fs::path& where) {
  if (fs::exists(where / "manifest.json")) return where;
  fs::path root = where / "checkpoints";
  if (!fs::is_directory(root)) root = where;
  if (!fs::is_directory(root)) return std::nullopt;
  std::vector<fs::path> complete;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.rfind("step_", 0) == 0 && e.path().extension() != ".tmp" &&
        fs::exists(e.path() / "manifest.json"))
      complete.push_back(e.path());
  }
  if (complete.empty()) return std::nullopt;
  return *std::max_element(complete.begin(), complete.end());
}

template <class T>
nlohmann::json read_checkpoint(const comm::Grid& grid, const fs::path& ckpt, Trainer<T>& tr,
                               const NetSpec& c, std::vector<T>* W0) {
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(read_text_file(ckpt / "manifest.json"));
  } catch (const nlohmann::json::exception& e) {
    WIDEMAX_FAIL("--resume: ", (ckpt / "manifest.json").string(), " is not valid JSON: ", e.what());
  }
  const char* hint =
      "resume with the model options the checkpoint was written with (see its "
      "manifest.json), or start a new run";
  WIDEMAX_CHECK(m.value("format", 0) == kFormat, "--resume: ", ckpt.string(),
                ": unknown checkpoint format ", m.value("format", 0));
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
  const model::Range r = tr.params().neurons;
  std::vector<T>* w0 = W0;
  if (w0) {
    if (m["tensors"].contains("W0"))
      w0->assign(static_cast<std::size_t>(r.size() * tr.shape().d), T(0));
    else
      w0 = nullptr;
  }
  for (const auto& s : slots_of(tr, w0)) {
    WIDEMAX_CHECK(m["tensors"].contains(s.name), "--resume: checkpoint ", ckpt.string(),
                  " has no tensor '", s.name, "'");
    const fs::path file = ckpt / (s.name + ".npy");
    const auto info = data::read_npy_info(file);  // refuses truncated files
    WIDEMAX_CHECK(info.shape.size() == 2 && info.shape[0] == c.width && info.shape[1] == s.cols,
                  "--resume: ", file.string(), " has the wrong shape");
    const std::vector<T> rows = data::read_npy_rows<T>(file, r.begin, r.end, s.cols);
    std::copy(rows.begin(), rows.end(), s.data);
    const std::string sum = hex(global_checksum(grid, s.data, r.begin, r.size(), s.cols));
    WIDEMAX_CHECK_HINT(sum == m["tensors"][s.name].value("checksum", ""),
                       "the file was modified or damaged after it was written; resume from an "
                       "older checkpoint (delete this one)",
                       "--resume: checksum mismatch in ", file.string(), " (", sum,
                       " != ", m["tensors"][s.name].value("checksum", ""), " in manifest.json)");
  }
  return m;
}

#define WIDEMAX_INSTANTIATE(T)                                                                   \
  template fs::path write_checkpoint<T>(const comm::Grid&, const fs::path&, std::int64_t,        \
                                        const Trainer<T>&, const Config&, const nlohmann::json&, \
                                        const std::vector<T>*, int);                             \
  template nlohmann::json read_checkpoint<T>(const comm::Grid&, const fs::path&, Trainer<T>&,    \
                                             const NetSpec&, std::vector<T>*);
WIDEMAX_INSTANTIATE(double)
WIDEMAX_INSTANTIATE(float)
#undef WIDEMAX_INSTANTIATE

}  // namespace widemax::train
