// Checkpoints of any command (docs/design.md §5): a directory RUN/checkpoints/step_<NNNNNNNNNN>/
// holding one .npy file per state tensor and manifest.json (step, the command's own fields, the
// rank count and grid that wrote it, shape and checksum per tensor).
// Every state tensor is row-split: each rank holds a contiguous range of its rows (neurons for the
// network, tokens for polarize) and writes or reads only that range (MPI-IO); nothing is gathered
// on one rank. A checkpoint is written under step_N.tmp/ and renamed when complete, so a crash
// never leaves one that looks complete; the newest `keep` are kept. Checksums decompose over rows
// (core/checksum.hpp), so a checkpoint written by P ranks is verified by Q ranks.
// Not here: what the tensors mean or which fields of the manifest must match on resume; the
// commands decide that (train/checkpoint.hpp for the network).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "widemax/comm/communicator.hpp"

namespace widemax::run {

// One state tensor, (global_rows, cols) row-major, of which this rank holds rows
// [row_begin, row_begin + rows) at `data`. `writer` is false on ranks whose rows are copies of
// another rank's (the grid columns of the network): they read but do not write or count them.
template <class T>
struct Tensor {
  std::string name;
  T* data = nullptr;
  std::int64_t row_begin = 0, rows = 0, global_rows = 0, cols = 0;
  bool writer = true;
};

// Collective over `world`. `manifest` holds the command's fields (step is added); returns the
// checkpoint's directory.
template <class T>
std::filesystem::path write_checkpoint(const comm::Communicator& world,
                                       const std::filesystem::path& run_dir, std::int64_t step,
                                       const std::vector<Tensor<const T>>& tensors,
                                       nlohmann::json manifest, int keep);

// The newest complete checkpoint at `where`: a checkpoint directory itself, a run directory, or
// its checkpoints/ directory. std::nullopt when there is none.
std::optional<std::filesystem::path> find_checkpoint(const std::filesystem::path& where);

// The manifest of a checkpoint (Error naming the file when it is not valid JSON).
nlohmann::json read_manifest(const std::filesystem::path& ckpt);

// Reads every tensor's rows into place and checks each one's shape and checksum against the
// manifest (Error naming the checkpoint and the tensor). Collective over `world`.
template <class T>
void read_tensors(const comm::Communicator& world, const std::filesystem::path& ckpt,
                  const nlohmann::json& manifest, const std::vector<Tensor<T>>& tensors);

}  // namespace widemax::run
