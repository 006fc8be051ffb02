// Choosing the process grid of a run (docs/design.md §2.3): --grid PdxPw as given, or --grid auto,
// which ranks every factorisation of the world with the cost model of comm/cost_model.hpp.
// Not here: building the grid (comm/grid.hpp) or the cost model itself.
#pragma once

#include <cstdint>
#include <utility>

#include "widemax/comm/communicator.hpp"
#include "widemax/train/config.hpp"

namespace widemax::train {

// Resolves --grid to (P_data, P_width) for the ranks of `world`: "PdxPw", "1xP", "Px1", or "auto",
// which ranks every factorisation with the cost model of comm/cost_model.hpp (network figures from
// --net-latency/--net-bandwidth, else measured now) and prints the choice with its reason.
// `batch` is the global mini-batch (0: full batch). Collective over `world` (the measurement).
std::pair<int, int> resolve_grid(const NetSpec& net, const DataSpec& data, std::int64_t batch,
                                 const comm::Communicator& world, int threads);

}  // namespace widemax::train
