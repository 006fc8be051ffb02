// Deterministic mini-batches, independent of the process grid. The training samples (by global
// id) are shuffled once per epoch by a permutation that depends only on (seed, epoch); step t
// takes batch t mod (batches per epoch) of epoch t / (batches per epoch). A last partial batch of
// an epoch is dropped, so every batch has exactly `batch` samples. Every rank computes the same
// batches; each keeps the members it holds.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace widemax::train {

class BatchSchedule {
 public:
  // `ids` are the global ids of all training samples (sorted); batch <= ids.size().
  BatchSchedule(std::vector<std::int64_t> ids, std::int64_t batch, std::uint64_t seed);
  std::int64_t batches_per_epoch() const { return per_epoch_; }
  // The global ids of step t's batch, in batch order.
  const std::vector<std::int64_t>& batch(std::int64_t step);

 private:
  void shuffle(std::int64_t epoch);
  std::vector<std::int64_t> ids_, perm_, current_;
  std::vector<std::pair<std::uint64_t, std::int64_t>> keyed_;
  std::int64_t batch_, per_epoch_;
  std::uint64_t seed_;
  std::int64_t epoch_ = -1;
};

// The permutation of [0, n) for (seed, epoch): sorting by a counter-based hash.
std::vector<std::int64_t> epoch_permutation(std::int64_t n, std::uint64_t seed, std::int64_t epoch);

}  // namespace widemax::train
