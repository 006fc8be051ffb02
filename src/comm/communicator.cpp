// Owning communicator and typed collectives. See communicator.hpp.
#include "widemax/comm/communicator.hpp"

#include <chrono>
#include <limits>
#include <thread>
#include <utility>

#include "mpi_types.hpp"
#include "widemax/core/error.hpp"

namespace widemax::comm {

namespace detail {
void check_mpi(int rc, const char* what, const char* file, int line) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(cat(what, " failed: ", std::string(msg, len)), file, line);
}
}  // namespace detail

using detail::mpi_type;

namespace {
int as_count(std::size_t n) {
  WIDEMAX_CHECK(n <= static_cast<std::size_t>(std::numeric_limits<int>::max()), "message of ", n,
                " elements exceeds MPI's int count; split it");
  return static_cast<int>(n);
}
}  // namespace

Communicator::Communicator(MPI_Comm comm) {
  WIDEMAX_MPI(MPI_Comm_dup(comm, &comm_));
  WIDEMAX_MPI(MPI_Comm_rank(comm_, &rank_));
  WIDEMAX_MPI(MPI_Comm_size(comm_, &size_));
}

Communicator::Communicator(MPI_Comm owned, Adopt) : comm_(owned) {
  WIDEMAX_MPI(MPI_Comm_rank(comm_, &rank_));
  WIDEMAX_MPI(MPI_Comm_size(comm_, &size_));
}

Communicator Communicator::adopt(MPI_Comm owned) {
  return Communicator(owned, Adopt{});
}

Communicator::~Communicator() {
  release();
}

Communicator::Communicator(Communicator&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)), rank_(other.rank_), size_(other.size_) {}

Communicator& Communicator::operator=(Communicator&& other) noexcept {
  if (this != &other) {
    release();
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    rank_ = other.rank_;
    size_ = other.size_;
  }
  return *this;
}

void Communicator::release() noexcept {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
  comm_ = MPI_COMM_NULL;
}

template <class T>
void Communicator::allreduce_sum(std::span<T> data) const {
  WIDEMAX_MPI(MPI_Allreduce(MPI_IN_PLACE, data.data(), as_count(data.size()), mpi_type<T>(),
                            MPI_SUM, comm_));
}

template <class T>
void Communicator::iallreduce_sum(std::span<T> data, Requests& reqs) const {
  WIDEMAX_ASSERT(reqs.reqs_.size() < reqs.reqs_.capacity(), "Requests capacity ",
                 reqs.reqs_.capacity(), " exceeded");
  MPI_Request r = MPI_REQUEST_NULL;
  WIDEMAX_MPI(MPI_Iallreduce(MPI_IN_PLACE, data.data(), as_count(data.size()), mpi_type<T>(),
                             MPI_SUM, comm_, &r));
  reqs.reqs_.push_back(r);
}

Requests::~Requests() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && !reqs_.empty())
    MPI_Waitall(static_cast<int>(reqs_.size()), reqs_.data(), MPI_STATUSES_IGNORE);
}

void Requests::progress() {
  if (reqs_.empty()) return;
  int done = 0;
  WIDEMAX_MPI(
      MPI_Testall(static_cast<int>(reqs_.size()), reqs_.data(), &done, MPI_STATUSES_IGNORE));
}

void Requests::wait_all() {
  if (reqs_.empty()) return;
  WIDEMAX_MPI(MPI_Waitall(static_cast<int>(reqs_.size()), reqs_.data(), MPI_STATUSES_IGNORE));
  reqs_.clear();
}

template <class T>
void Communicator::allreduce_max(std::span<T> data) const {
  WIDEMAX_MPI(MPI_Allreduce(MPI_IN_PLACE, data.data(), as_count(data.size()), mpi_type<T>(),
                            MPI_MAX, comm_));
}

template <class T>
T Communicator::allreduce_sum(T value) const {
  WIDEMAX_MPI(MPI_Allreduce(MPI_IN_PLACE, &value, 1, mpi_type<T>(), MPI_SUM, comm_));
  return value;
}

template <class T>
T Communicator::allreduce_max(T value) const {
  WIDEMAX_MPI(MPI_Allreduce(MPI_IN_PLACE, &value, 1, mpi_type<T>(), MPI_MAX, comm_));
  return value;
}

template <class T>
T Communicator::allreduce_min(T value) const {
  WIDEMAX_MPI(MPI_Allreduce(MPI_IN_PLACE, &value, 1, mpi_type<T>(), MPI_MIN, comm_));
  return value;
}

template <class T>
void Communicator::allreduce_softmax_merge(T* data, std::int64_t count, int width) const {
  if (size_ == 1) return;  // one shard: the partials are already the whole
  MPI_Datatype record;
  WIDEMAX_MPI(MPI_Type_contiguous(width, mpi_type<T>(), &record));
  WIDEMAX_MPI(MPI_Type_commit(&record));
  const int rc = MPI_Allreduce(MPI_IN_PLACE, data, as_count(static_cast<std::size_t>(count)),
                               record, detail::softmax_merge_op<T>(), comm_);
  MPI_Type_free(&record);
  WIDEMAX_MPI(rc);
}

template <class T>
void Communicator::broadcast(std::span<T> data, int root) const {
  WIDEMAX_MPI(MPI_Bcast(data.data(), as_count(data.size()), mpi_type<T>(), root, comm_));
}

void Communicator::broadcast(std::string& s, int root) const {
  std::int64_t len = static_cast<std::int64_t>(s.size());
  WIDEMAX_MPI(MPI_Bcast(&len, 1, mpi_type<std::int64_t>(), root, comm_));
  s.resize(static_cast<std::size_t>(len));
  WIDEMAX_MPI(MPI_Bcast(s.data(), as_count(s.size()), MPI_CHAR, root, comm_));
}

std::vector<std::string> Communicator::allgather(const std::string& s) const {
  int len = as_count(s.size());
  std::vector<int> lens(static_cast<std::size_t>(size_));
  WIDEMAX_MPI(MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, comm_));
  std::vector<int> displs(lens.size(), 0);
  for (std::size_t i = 1; i < lens.size(); ++i) displs[i] = displs[i - 1] + lens[i - 1];
  std::string all(static_cast<std::size_t>(displs.back() + lens.back()), '\0');
  WIDEMAX_MPI(MPI_Allgatherv(s.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(),
                             MPI_CHAR, comm_));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < lens.size(); ++i)
    out.push_back(
        all.substr(static_cast<std::size_t>(displs[i]), static_cast<std::size_t>(lens[i])));
  return out;
}

void Communicator::barrier() const {
  WIDEMAX_MPI(MPI_Barrier(comm_));
}

void Communicator::wait_idle_for_root() const {
  MPI_Request r = MPI_REQUEST_NULL;
  WIDEMAX_MPI(MPI_Ibarrier(comm_, &r));
  int done = 0;
  while (!done) {
    WIDEMAX_MPI(MPI_Test(&r, &done, MPI_STATUS_IGNORE));
    if (!done && rank_ != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int Communicator::ranks_on_node() const {
  MPI_Comm node = MPI_COMM_NULL;
  WIDEMAX_MPI(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  return adopt(node).size();
}

#define WIDEMAX_INSTANTIATE(T)                                                  \
  template void Communicator::allreduce_sum<T>(std::span<T>) const;             \
  template void Communicator::iallreduce_sum<T>(std::span<T>, Requests&) const; \
  template void Communicator::allreduce_max<T>(std::span<T>) const;             \
  template T Communicator::allreduce_sum<T>(T) const;                           \
  template T Communicator::allreduce_max<T>(T) const;                           \
  template T Communicator::allreduce_min<T>(T) const;                           \
  template void Communicator::broadcast<T>(std::span<T>, int) const;
WIDEMAX_INSTANTIATE(double)
WIDEMAX_INSTANTIATE(float)
WIDEMAX_INSTANTIATE(int)
WIDEMAX_INSTANTIATE(std::int64_t)
WIDEMAX_INSTANTIATE(std::uint64_t)
#undef WIDEMAX_INSTANTIATE
void agree_on_failure(const Communicator& comm, const std::exception_ptr& failure) {
  const int failed = failure ? 1 : 0;
  std::vector<int> flags(static_cast<std::size_t>(comm.size()), 0);
  WIDEMAX_MPI(MPI_Allgather(&failed, 1, MPI_INT, flags.data(), 1, MPI_INT, comm.raw()));
  std::vector<int> ranks;
  for (int r = 0; r < comm.size(); ++r)
    if (flags[static_cast<std::size_t>(r)]) ranks.push_back(r);
  if (ranks.empty()) return;
  const int root = ranks.front();
  std::string what, hint, file;
  int fields[2] = {0, static_cast<int>(Error::Kind::kUser)};  // line, kind
  if (comm.rank() == root) {
    try {
      std::rethrow_exception(failure);
    } catch (const Error& e) {
      what = e.what(), hint = e.hint(), file = e.file();
      fields[0] = e.line(), fields[1] = static_cast<int>(e.kind());
    } catch (const std::exception& e) {  // not raised by widemax's checks: a bug, or the library
      what = e.what(), fields[1] = static_cast<int>(Error::Kind::kInternal);
    } catch (...) {
      what = "unknown exception", fields[1] = static_cast<int>(Error::Kind::kInternal);
    }
  }
  comm.broadcast(what, root);
  comm.broadcast(hint, root);
  comm.broadcast(file, root);
  comm.broadcast(std::span<int>(fields), root);
  if (static_cast<int>(ranks.size()) < comm.size()) {
    // Only some ranks saw it (a file one node cannot read, one grid row's rows): say which.
    std::string list;
    for (std::size_t i = 0; i < ranks.size() && i < 8; ++i) list += cat(i ? ", " : "", ranks[i]);
    if (ranks.size() > 8) list += ", ...";
    what += cat(" (on rank", ranks.size() > 1 ? "s " : " ", list, " of ", comm.size(), ")");
  }
  throw Error(what, file.c_str(), fields[0], hint, Error::Scope::kAllRanks,
              static_cast<Error::Kind>(fields[1]));
}

template void Communicator::allreduce_softmax_merge<double>(double*, std::int64_t, int) const;
template void Communicator::allreduce_softmax_merge<float>(float*, std::int64_t, int) const;

}  // namespace widemax::comm
