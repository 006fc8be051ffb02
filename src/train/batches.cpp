// Deterministic mini-batches. See batches.hpp.
#include "widemax/train/batches.hpp"

#include <algorithm>
#include <numeric>

#include "widemax/core/error.hpp"
#include "widemax/core/random.hpp"

namespace widemax::train {

namespace {
// The permutation's (hash, index) pairs, sorted, into `keyed` (resized once, then reused).
void sorted_keys(std::int64_t n, std::uint64_t seed, std::int64_t epoch,
                 std::vector<std::pair<std::uint64_t, std::int64_t>>& keyed) {
  keyed.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    keyed[i] = {rng::hash(seed, rng::kStreamShuffle, static_cast<std::uint64_t>(epoch),
                          static_cast<std::uint64_t>(i)),
                i};
  std::sort(keyed.begin(), keyed.end());
}
}  // namespace

std::vector<std::int64_t> epoch_permutation(std::int64_t n, std::uint64_t seed,
                                            std::int64_t epoch) {
  std::vector<std::pair<std::uint64_t, std::int64_t>> keyed;
  sorted_keys(n, seed, epoch, keyed);
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) perm[i] = keyed[i].second;
  return perm;
}

BatchSchedule::BatchSchedule(std::vector<std::int64_t> ids, std::int64_t batch, std::uint64_t seed)
    : ids_(std::move(ids)), batch_(batch), seed_(seed) {
  const auto n = static_cast<std::int64_t>(ids_.size());
  WIDEMAX_CHECK(batch >= 1 && batch <= n, "--batch ", batch, " must be between 1 and the ", n,
                " training samples");
  per_epoch_ = n / batch;
  current_.resize(static_cast<std::size_t>(batch));
}

// In place: a new epoch in the training loop allocates nothing.
void BatchSchedule::shuffle(std::int64_t epoch) {
  sorted_keys(static_cast<std::int64_t>(ids_.size()), seed_, epoch, keyed_);
  perm_.resize(keyed_.size());
  for (std::size_t i = 0; i < keyed_.size(); ++i)
    perm_[i] = ids_[static_cast<std::size_t>(keyed_[i].second)];
  epoch_ = epoch;
}

const std::vector<std::int64_t>& BatchSchedule::batch(std::int64_t step) {
  const std::int64_t epoch = step / per_epoch_;
  if (epoch != epoch_) shuffle(epoch);
  const std::int64_t b = step % per_epoch_;
  std::copy(perm_.begin() + b * batch_, perm_.begin() + (b + 1) * batch_, current_.begin());
  return current_;
}

}  // namespace widemax::train
