// Checkpoints (DESIGN 5): a directory RUN/checkpoints/step_<NNNNNNNNNN>/ holding neuron-major .npy
// tensors (W, A, each optimiser state slot, and W_0 when NTK diagnostics are on) and
// manifest.json (step, config, shapes, rank count and grid that wrote it, a checksum per tensor).
// Every rank writes and reads only its own rows (MPI-IO on write); nothing is gathered on one rank.
// A checkpoint is written under step_N.tmp/ and renamed when complete, so a crash never leaves one
// that looks complete; the newest `keep` are kept. Checksums decompose over rows
// (core/checksum.hpp), so a checkpoint written by P ranks is verified by Q ranks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "widemax/comm/grid.hpp"
#include "widemax/train/config.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

// Collective over the grid. `extra` is merged into the manifest (for example initial_loss); `c`,
// the whole request, is recorded there too (the batch order depends on its data seed and batch).
// Returns the checkpoint's directory.
template <class T>
std::filesystem::path write_checkpoint(const comm::Grid& grid, const std::filesystem::path& run_dir,
                                       std::int64_t step, const Trainer<T>& tr, const Config& c,
                                       const nlohmann::json& extra, const std::vector<T>* W0,
                                       int keep);

// The newest complete checkpoint at `where`: a checkpoint directory itself, a run directory, or
// its checkpoints/ directory. std::nullopt when there is none.
std::optional<std::filesystem::path> find_checkpoint(const std::filesystem::path& where);

// Loads a checkpoint into `tr` (parameters and optimiser state; W_0 into *W0 when asked and
// present), after checking that it matches this run's model (width, d, d_out, optimiser,
// --train-a) and that every tensor's checksum matches its manifest. Collective over the grid.
// Throws an Error naming the checkpoint and what is wrong. Returns the manifest.
template <class T>
nlohmann::json read_checkpoint(const comm::Grid& grid, const std::filesystem::path& ckpt,
                               Trainer<T>& tr, const NetSpec& net, std::vector<T>* W0);

}  // namespace widemax::train
