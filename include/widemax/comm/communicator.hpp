// The one owning wrapper around an MPI communicator. It duplicates the communicator it is given
// (so widemax's messages never mix with the caller's), frees what it made, cannot be copied, and
// offers typed collectives so that no MPI_Datatype is spelled outside comm/.
// It does not hide MPI: raw() is there for the rare call that has no helper.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <vector>

namespace widemax::comm {

// Non-blocking collectives in flight (Communicator::iallreduce_sum). Room for the requests is
// reserved once, so starting one in the training loop never allocates. Open MPI has no progress
// thread by default: a non-blocking all-reduce advances when MPI is entered, so the step calls
// progress() between blocks of work.
class Requests {
 public:
  explicit Requests(std::size_t capacity = 0) { reqs_.reserve(capacity); }
  ~Requests();  // waits: the buffers must not go away under MPI
  Requests(const Requests&) = delete;
  Requests& operator=(const Requests&) = delete;
  void reserve(std::size_t capacity) { reqs_.reserve(capacity); }
  void progress();  // MPI_Testall
  void wait_all();
  std::size_t pending() const { return reqs_.size(); }

 private:
  friend class Communicator;
  std::vector<MPI_Request> reqs_;
};

class Communicator {
 public:
  // Duplicates `comm` (collective over it).
  explicit Communicator(MPI_Comm comm);
  // Takes ownership of a communicator this code created (for example by MPI_Comm_split).
  static Communicator adopt(MPI_Comm owned);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  Communicator(Communicator&& other) noexcept;
  Communicator& operator=(Communicator&& other) noexcept;

  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm raw() const { return comm_; }

  // In-place all-reduces over every rank of this communicator.
  template <class T>
  void allreduce_sum(std::span<T> data) const;
  template <class T>
  void allreduce_max(std::span<T> data) const;
  template <class T>
  T allreduce_sum(T value) const;
  // Starts an in-place SUM all-reduce of `data`, which must stay untouched until `reqs` is
  // waited on. Every rank must start the same sequence of them.
  template <class T>
  void iallreduce_sum(std::span<T> data, Requests& reqs) const;
  template <class T>
  T allreduce_max(T value) const;
  template <class T>
  T allreduce_min(T value) const;

  // Merges per-sample softmax partials (M, S, u_1..u_{width-2}) of docs/design.md §2.1 across
  // ranks, in place. `data` holds `count` records of `width` numbers each.
  template <class T>
  void allreduce_softmax_merge(T* data, std::int64_t count, int width) const;

  template <class T>
  void broadcast(std::span<T> data, int root) const;
  void broadcast(std::string& s, int root) const;
  // Gathers one string from every rank on every rank.
  std::vector<std::string> allgather(const std::string& s) const;

  void barrier() const;
  // A barrier in which ranks other than 0 sleep between polls (MPI_Ibarrier + MPI_Test every
  // millisecond) instead of spinning: rank 0 can time something alone on an oversubscribed node.
  void wait_idle_for_root() const;
  // The number of ranks of this communicator that share this rank's node (shared memory).
  // Collective.
  int ranks_on_node() const;

 private:
  struct Adopt {};
  Communicator(MPI_Comm owned, Adopt);
  void release() noexcept;

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

// The agreement itself: `failure` is this rank's exception, or null. Collective.
void agree_on_failure(const Communicator& comm, const std::exception_ptr& failure);

// Ends a phase of work that issues no collective after anything in it may throw (reading this
// rank's rows, checking options or a file) with one agreement over `comm`: when `local` threw on
// any rank, every rank throws the same widemax::Error, of scope kAllRanks, so that no rank goes on
// into a collective that another skipped and the error is printed once (by rank 0). It is the
// error of the lowest rank that failed (its message, hint, kind and place, broadcast from it),
// naming the ranks that failed when not all did. Costs one all-gather of an int when nothing
// failed. Collective.
template <class F>
void agree_on_errors(const Communicator& comm, F&& local) {
  std::exception_ptr failure;
  try {
    local();
  } catch (...) {
    failure = std::current_exception();
  }
  agree_on_failure(comm, failure);
}

}  // namespace widemax::comm
