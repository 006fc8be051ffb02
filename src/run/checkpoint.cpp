// Checkpoints. See checkpoint.hpp.
#include "widemax/run/checkpoint.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "widemax/comm/npy_io.hpp"
#include "widemax/core/checksum.hpp"
#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"
#include "widemax/data/npy.hpp"

namespace widemax::run {

namespace fs = std::filesystem;

namespace {

constexpr int kFormat = 1;

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

// Checksum of a row-split tensor: only the writers count, so each row is counted once.
template <class T>
std::string global_checksum(const comm::Communicator& world, const Tensor<T>& t) {
  const std::uint64_t part =
      t.writer ? checksum_partial(t.data, t.rows * t.cols, t.row_begin * t.cols) : 0;
  return hex(world.allreduce_sum(part));
}

// The manifest's own checksum: of its JSON text without the checksum field, so that an edited
// step, rate or width is caught like a damaged tensor.
std::string manifest_checksum(nlohmann::json m) {
  m.erase("manifest_checksum");
  const std::string text = m.dump();
  return hex(checksum_partial(text.data(), static_cast<std::int64_t>(text.size()), 0));
}

std::string run_id_of(const fs::path& ckpt) {
  try {
    return nlohmann::json::parse(read_text_file(ckpt / "manifest.json")).value("run_id", "");
  } catch (const std::exception&) {
    return "";
  }
}

std::int64_t step_of(const fs::path& ckpt) {
  return std::stoll(ckpt.filename().string().substr(5));
}

}  // namespace

template <class T>
fs::path write_checkpoint(const comm::Communicator& world, const fs::path& run_dir,
                          std::int64_t step, const std::vector<Tensor<const T>>& tensors,
                          nlohmann::json manifest, int keep) {
  const bool rank0 = world.rank() == 0;
  const fs::path root = run_dir / "checkpoints";
  const fs::path final_dir = root / step_name(step);
  const fs::path tmp = root / (step_name(step) + ".tmp");
  if (rank0) {
    // Nothing inside the run directory is followed if it is a link planted there.
    WIDEMAX_CHECK(!fs::is_symlink(root), "checkpoint: '", root.string(),
                  "' is a symbolic link; widemax writes checkpoints only into a real directory");
    std::error_code ec;
    fs::remove_all(tmp, ec);  // a leftover, or a link planted at that name (removed, not followed)
    fs::create_directories(tmp, ec);
    WIDEMAX_CHECK(!ec, "checkpoint: cannot create '", tmp.string(), "': ", ec.message());
  }
  world.barrier();
  nlohmann::json entries;
  try {
    for (const auto& t : tensors) {
      comm::write_npy_rows(world, tmp / (t.name + ".npy"), t.data, t.row_begin,
                           t.writer ? t.rows : 0, t.global_rows, t.cols);
      entries[t.name] = {{"file", t.name + ".npy"},
                         {"shape", {t.global_rows, t.cols}},
                         {"checksum", global_checksum(world, t)}};
    }
  } catch (const Error&) {
    // write_npy_rows fails on every rank alike; drop the partial checkpoint before reporting.
    std::error_code ec;
    if (rank0) fs::remove_all(tmp, ec);
    throw;
  }
  if (rank0) {
    manifest["format"] = kFormat;
    manifest["step"] = step;
    manifest["ranks"] = world.size();
    manifest["tensors"] = entries;
    manifest["written"] = static_cast<std::int64_t>(std::time(nullptr));
    manifest["manifest_checksum"] = manifest_checksum(manifest);
    write_file_atomic(tmp / "manifest.json", manifest.dump(2) + "\n");
    fsync_directory(tmp);  // the tensors' and the manifest's names, before the rename
    std::error_code ec;
    fs::remove_all(final_dir, ec);
    fs::rename(tmp, final_dir, ec);
    WIDEMAX_CHECK(!ec, "checkpoint: cannot rename '", tmp.string(), "': ", ec.message());
    fsync_directory(root);
    // Keep the newest `keep` complete checkpoints of this run: only checkpoints with its run id
    // and an older step are removed, never another run's and never a newer step.
    const std::string id = manifest.value("run_id", "");
    std::vector<fs::path> mine;
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && e.path().extension() != ".tmp" &&
          e.path().filename().string().rfind("step_", 0) == 0 && e.path() != final_dir &&
          step_of(e.path()) < step && run_id_of(e.path()) == id)
        mine.push_back(e.path());
    std::sort(mine.begin(), mine.end());
    const std::size_t older_kept = keep > 0 ? static_cast<std::size_t>(keep) - 1 : mine.size();
    for (std::size_t i = 0; i + older_kept < mine.size(); ++i) fs::remove_all(mine[i], ec);
  }
  world.barrier();
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

nlohmann::json read_manifest(const fs::path& ckpt) {
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(read_text_file(ckpt / "manifest.json"));
  } catch (const nlohmann::json::exception& e) {
    WIDEMAX_FAIL("--resume: ", (ckpt / "manifest.json").string(), " is not valid JSON: ", e.what());
  }
  const fs::path file = ckpt / "manifest.json";
  WIDEMAX_CHECK(m.is_object(), "--resume: ", file.string(), " is not a JSON object");
  WIDEMAX_CHECK(m.value("format", 0) == kFormat, "--resume: ", ckpt.string(),
                ": unknown checkpoint format ", m.value("format", 0));
  if (m.contains("manifest_checksum"))  // checkpoints of widemax 0.1.0 before it have none
    WIDEMAX_CHECK_HINT(m["manifest_checksum"].is_string() &&
                           m["manifest_checksum"].get<std::string>() == manifest_checksum(m),
                       "the manifest was edited or damaged after it was written; resume from "
                       "another checkpoint",
                       "--resume: ", file.string(), " does not match its own checksum");
  WIDEMAX_CHECK(
      m.contains("step") && m["step"].is_number_integer() && m["step"].get<std::int64_t>() >= 0,
      "--resume: ", file.string(), ": 'step' is not a whole number >= 0");
  WIDEMAX_CHECK(m.contains("tensors") && m["tensors"].is_object(), "--resume: ", file.string(),
                ": no 'tensors' object");
  for (const char* k : {"lr", "initial_loss"})
    WIDEMAX_CHECK(!m.contains(k) || (m[k].is_number() && std::isfinite(m[k].get<double>())),
                  "--resume: ", file.string(), ": '", k, "' is not a finite number");
  WIDEMAX_CHECK(!m.contains("lr") || m["lr"].get<double>() > 0, "--resume: ", file.string(),
                ": 'lr' is not positive");
  for (const char* k : {"width", "d", "d_out", "T"})
    WIDEMAX_CHECK(!m.contains(k) || m[k].is_number_integer(), "--resume: ", file.string(), ": '", k,
                  "' is not a whole number");
  return m;
}

template <class T>
void read_tensors(const comm::Communicator& world, const fs::path& ckpt,
                  const nlohmann::json& manifest, const std::vector<Tensor<T>>& tensors) {
  const nlohmann::json& entries = manifest["tensors"];
  for (const auto& t : tensors) {
    WIDEMAX_CHECK(entries.contains(t.name), "--resume: checkpoint ", ckpt.string(),
                  " has no tensor '", t.name, "'");
    const fs::path file = ckpt / (t.name + ".npy");
    const auto info = data::read_npy_info(file);  // refuses truncated files
    WIDEMAX_CHECK(
        info.shape.size() == 2 && info.shape[0] == t.global_rows && info.shape[1] == t.cols,
        "--resume: ", file.string(), " has the wrong shape");
    const std::vector<T> rows =
        data::read_npy_rows<T>(file, t.row_begin, t.row_begin + t.rows, t.cols);
    std::copy(rows.begin(), rows.end(), t.data);
    const std::string sum = global_checksum(world, t);
    const std::string want = entries[t.name].value("checksum", "");
    WIDEMAX_CHECK_HINT(sum == want,
                       "the file was modified or damaged after it was written; resume from an "
                       "older checkpoint (delete this one)",
                       "--resume: checksum mismatch in ", file.string(), " (", sum, " != ", want,
                       " in manifest.json)");
  }
}

#define WIDEMAX_INSTANTIATE(T)                                                                     \
  template fs::path write_checkpoint<T>(const comm::Communicator&, const fs::path&, std::int64_t,  \
                                        const std::vector<Tensor<const T>>&, nlohmann::json, int); \
  template void read_tensors<T>(const comm::Communicator&, const fs::path&, const nlohmann::json&, \
                                const std::vector<Tensor<T>>&);
WIDEMAX_INSTANTIATE(double)
WIDEMAX_INSTANTIATE(float)
#undef WIDEMAX_INSTANTIATE

}  // namespace widemax::run
