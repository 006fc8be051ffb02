// The network's checkpoint (docs/design.md §5) on top of the run layer's generic store
// (run/checkpoint.hpp): W, A, each optimiser state slot and, when NTK diagnostics are on, W_0,
// each row-split by neurons; the manifest records the network (width, d, d_out, precision,
// optimiser, --train-a, grid) and the command's own fields. Used by train and diffusion.
// Not here: when to checkpoint (run/run.hpp) or the loop's own state (the commands add it to
// the manifest).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "widemax/comm/grid.hpp"
#include "widemax/run/run.hpp"
#include "widemax/train/config.hpp"
#include "widemax/train/trainer.hpp"

namespace widemax::train {

// Writes the network's state at `step` with `extra` merged into the manifest. Collective.
template <class T>
void save_network(run::Run& run, const comm::Grid& grid, std::int64_t step, const Trainer<T>& tr,
                  const NetSpec& c, const nlohmann::json& extra, const std::vector<T>* W0);

// Loads a checkpoint into `tr` (parameters and optimiser state; W_0 into *W0 when asked and
// present), after checking that it matches this run's model (width, d, d_out, optimiser,
// --train-a) and that every tensor's checksum matches its manifest. Collective over the grid.
// Throws an Error naming the checkpoint and what is wrong. Returns the manifest.
template <class T>
nlohmann::json restore_network(const comm::Grid& grid, const std::filesystem::path& ckpt,
                               Trainer<T>& tr, const NetSpec& c, std::vector<T>* W0);

// With --save: the final W.npy (m, d) and A.npy (m, d_out) in the run directory, written
// collectively by neuron rows (grid row 0 writes; the other rows hold copies). Nothing without a
// run directory.
template <class T>
void save_parameters(const run::Run& run, const comm::Grid& grid, const Trainer<T>& tr);

}  // namespace widemax::train
