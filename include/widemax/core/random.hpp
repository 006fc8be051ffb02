// Counter-based random numbers: every value is a pure function of (seed, stream, i, j).
// This is what makes W_0 independent of how neurons are sharded (docs/design.md §2.4): neuron r's
// weights depend on r, never on which rank draws them or in what order. Not a general-purpose RNG
// (no state, no distributions beyond uniform, normal and sign).
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace widemax::rng {

// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
constexpr std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t hash(std::uint64_t seed, std::uint64_t stream, std::uint64_t i,
                             std::uint64_t j) {
  std::uint64_t h = mix(seed);
  h = mix(h ^ stream);
  h = mix(h ^ i);
  return mix(h ^ j);
}

// Uniform in the open interval (0, 1), 53 bits.
constexpr double uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t i,
                         std::uint64_t j) {
  return (static_cast<double>(hash(seed, stream, i, j) >> 11) + 0.5) * 0x1.0p-53;
}

// Standard normal by Box-Muller from two independent uniforms of the same counter.
inline double normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t i, std::uint64_t j) {
  const double u1 = uniform(seed, stream, i, 2 * j);
  const double u2 = uniform(seed, stream, i, 2 * j + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// +1 or -1 with equal probability.
constexpr double sign(std::uint64_t seed, std::uint64_t stream, std::uint64_t i, std::uint64_t j) {
  return (hash(seed, stream, i, j) >> 63) ? 1.0 : -1.0;
}

// Streams in use, so that no two kinds of draws share numbers.
enum Stream : std::uint64_t {
  kStreamW = 1,
  kStreamA = 2,
  kStreamPerturb = 3,  // widemax ntk --perturb: the directions u_r
  kStreamDataX = 16,
  kStreamDataTeacher = 17,
  kStreamDataNoise = 18,
  kStreamShuffle = 32,
  kStreamSplit = 33,
};

}  // namespace widemax::rng
