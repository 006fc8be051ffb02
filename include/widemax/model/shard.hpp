// Shard arithmetic: which contiguous range of [0, total) part `index` of `parts` owns.
// The first (total % parts) parts get one extra item, so sizes differ by at most one and every
// part is non-empty when total >= parts. Pure functions; used for neurons (over grid columns)
// and samples (over grid rows).
#pragma once

#include <cstdint>

namespace widemax::model {

struct Range {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t size() const { return end - begin; }
  bool operator==(const Range&) const = default;
};

// The range owned by part `index` (0 <= index < parts) of `total` items.
Range shard_range(std::int64_t total, int parts, int index);

// The part that owns item `item` (0 <= item < total).
int shard_owner(std::int64_t total, int parts, std::int64_t item);

}  // namespace widemax::model
