// Shard arithmetic. See shard.hpp.
#include "widemax/model/shard.hpp"

#include "widemax/core/error.hpp"

namespace widemax::model {

Range shard_range(std::int64_t total, int parts, int index) {
  WIDEMAX_ASSERT(parts >= 1 && index >= 0 && index < parts && total >= 0,
                 "shard_range: bad arguments total=", total, " parts=", parts, " index=", index);
  const std::int64_t base = total / parts;
  const std::int64_t extra = total % parts;
  const std::int64_t begin = index * base + (index < extra ? index : extra);
  return {begin, begin + base + (index < extra ? 1 : 0)};
}

int shard_owner(std::int64_t total, int parts, std::int64_t item) {
  WIDEMAX_ASSERT(parts >= 1 && item >= 0 && item < total,
                 "shard_owner: bad arguments total=", total, " parts=", parts, " item=", item);
  const std::int64_t base = total / parts;
  const std::int64_t extra = total % parts;
  const std::int64_t cut = extra * (base + 1);  // items owned by the larger parts
  if (item < cut) return static_cast<int>(item / (base + 1));
  return static_cast<int>(extra + (item - cut) / base);
}

}  // namespace widemax::model
