// Streams and seeds of the counter-based generator (core/random.hpp) used by `widemax diffusion`.
// Every draw is a pure function of (seed, stream, global index, coordinate), so training rows,
// held-out rows and samples are the same whatever the number of ranks or the grid.
// The values start at 256, above the streams of core/random.hpp, so no two kinds of draws share
// numbers.
#pragma once

#include <cstdint>

#include "widemax/core/random.hpp"

namespace widemax::diffusion {

enum Stream : std::uint64_t {
  kStreamComponent = 256,     // which mixture component a sample comes from
  kStreamPoint = 257,         // the standard normal that a component turns into its sample
  kStreamTime = 258,          // t of a DSM row
  kStreamEps = 259,           // eps of a DSM row
  kStreamPick = 260,          // which data point (CSV) a DSM row starts from
  kStreamSamplerInit = 261,   // x_T ~ N(0, I) of the reverse-time samplers
  kStreamSamplerNoise = 262,  // Brownian increments of the reverse-time SDE
  kStreamDirections = 263,    // directions of the sliced Wasserstein distance
  kStreamPreset = 264,        // parameters of the random:K:D preset
};

// Independent seeds for the different sets drawn from one user seed.
enum Purpose : std::uint64_t {
  kPurposeTrain = 1,      // DSM training rows
  kPurposeHeldout = 2,    // held-out (x_t, t) of the score error
  kPurposeReference = 3,  // fresh mixture samples that the generated ones are compared with
  kPurposeFloor = 4,      // a second fresh set: the sliced Wasserstein of two true sample sets
  kPurposeStop = 5,       // x0: the held-out triples of the early stopping
};

inline std::uint64_t derive_seed(std::uint64_t seed, Purpose p) {
  return rng::hash(seed, 0xd1ff, p, 0);
}

}  // namespace widemax::diffusion
