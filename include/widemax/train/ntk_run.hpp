// `widemax ntk` (the empirical NTK without training) and the choice of NTK samples that it shares
// with the NTK diagnostics of `widemax train`. Not here: the kernel itself (ntk/ntk.hpp) or its
// accumulation over the shards (Trainer::ntk).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "widemax/comm/grid.hpp"
#include "widemax/train/config.hpp"

namespace widemax::train {

// The NTK samples: all training samples when --ntk-samples is 0 and n d_out <= 1024, else a subset
// of --ntk-samples (default 1024 / d_out) chosen by a permutation keyed by the data seed: the same
// on every grid. Sorted global ids. Throws an Error when --ntk-samples exceeds the training set.
std::vector<std::int64_t> ntk_sample_ids(std::int64_t ntk_samples, std::uint64_t data_seed,
                                         const std::vector<std::int64_t>& train_ids,
                                         std::int64_t d_out);

// `widemax ntk`: the empirical NTK at initialisation (or --init-from weights), without training.
// Writes H.npy (N, N) with N = n_k d_out and index i * d_out + k, eigenvalues.npy and
// spectrum.csv (ascending), ntk_samples.csv (the global row ids used), config.json and
// summary.json (lambda_min, lambda_max, trace, condition number). With --perturb R (c.perturb > 0)
// also H at W_0 + Delta (Delta_r = R u_r, model::add_sphere_perturbation; H.npy stays H(W_0)):
// H_perturbed.npy and, in summary.json, perturb_radius, perturb_seed, ntk_perturb_diff_fro
// (||H(W_0 + Delta) - H(W_0)||_F), ntk_perturb_diff_rel (over ||H(W_0)||_F), ntk_perturb_diff_spec
// (largest |eigenvalue| of the difference), lambda_min_perturbed and lambda_max_perturbed. --save
// writes W.npy and A.npy of the weights of the last H (W_0 + Delta with --perturb). Collective over
// the grid.
nlohmann::json run_ntk(const Config& c, const comm::Grid& grid, int threads,
                       const nlohmann::json& runtime);

}  // namespace widemax::train
