// A checksum of an array that decomposes over any split of the array: the sum, modulo 2^64, of a
// mix of (global element index, element bits). Each rank sums its own range and one all-reduce
// gives the checksum of the whole, whatever the number of ranks that wrote or reads it. Detects
// corrupted and misplaced elements (not a cryptographic hash).
#pragma once

#include <cstdint>
#include <cstring>

#include "widemax/core/random.hpp"

namespace widemax {

template <class T>
std::uint64_t checksum_partial(const T* data, std::int64_t count, std::int64_t first_index) {
  std::uint64_t sum = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, data + i, sizeof(T));
    sum += rng::mix(bits ^ rng::mix(static_cast<std::uint64_t>(first_index + i)));
  }
  return sum;
}

}  // namespace widemax
