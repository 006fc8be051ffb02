// Collective .npy writes with MPI-IO. See npy_io.hpp.
#include "widemax/comm/npy_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

#include "mpi_types.hpp"
#include "widemax/core/error.hpp"
#include "widemax/data/npy.hpp"

namespace widemax::comm {

template <class T>
void write_npy_rows(const Communicator& comm, const std::filesystem::path& path, const T* local,
                    std::int64_t row_begin, std::int64_t local_rows, std::int64_t global_rows,
                    std::int64_t cols) {
  const std::string header = data::npy_header(sizeof(T) == 4 ? "<f4" : "<f8", {global_rows, cols});
  const std::filesystem::path tmp = path.string() + ".tmp";
  // Rank 0 creates the temporary file itself, exclusively and without following a link: whatever
  // stood at that name (a leftover, or a symlink planted there) is removed first, never written
  // through. The ranks then open that file; they agree on the outcome first.
  int created = 1;
  if (comm.rank() == 0) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);  // removes a link itself, not its target
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    created = fd >= 0 ? 1 : 0;
    if (fd >= 0) ::close(fd);
  }
  comm.broadcast(std::span<int>(&created, 1), 0);
  WIDEMAX_CHECK(created, "cannot create '", tmp.string(), "' for writing");
  MPI_File fh;
  // Rank 0's open decides for everybody: an error is broadcast, so that no rank is left in a
  // collective call that the others skipped.
  int rc = MPI_File_open(comm.raw(), tmp.c_str(), MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
  WIDEMAX_CHECK(rc == MPI_SUCCESS, "cannot open '", tmp.string(), "' for writing");
  rc = MPI_File_set_size(fh, 0);
  if (comm.rank() == 0 && rc == MPI_SUCCESS)
    rc = MPI_File_write_at(fh, 0, header.data(), static_cast<int>(header.size()), MPI_CHAR,
                           MPI_STATUS_IGNORE);
  const MPI_Offset offset = static_cast<MPI_Offset>(header.size()) +
                            static_cast<MPI_Offset>(row_begin * cols) * sizeof(T);
  // Split into chunks below 2^31 elements: MPI counts are ints.
  const std::int64_t total = local_rows * cols;
  const std::int64_t chunk = std::int64_t{1} << 28;
  const std::int64_t n_chunks = comm.allreduce_max<std::int64_t>((total + chunk - 1) / chunk);
  // Open MPI reports success with a short count when the file system is full, so the count of
  // every write and the final file size are checked too.
  bool short_write = false;
  for (std::int64_t c = 0; c < n_chunks; ++c) {
    const std::int64_t begin = std::min(total, c * chunk);
    const std::int64_t count = std::min(total, begin + chunk) - begin;
    MPI_Status status;
    const int rc2 = MPI_File_write_at_all(fh, offset + static_cast<MPI_Offset>(begin * sizeof(T)),
                                          local + begin, static_cast<int>(count),
                                          detail::mpi_type<T>(), &status);
    int written = 0;
    if (rc2 == MPI_SUCCESS) MPI_Get_count(&status, detail::mpi_type<T>(), &written);
    if (rc2 != MPI_SUCCESS) rc = rc2;
    if (rc2 == MPI_SUCCESS && written != static_cast<int>(count)) short_write = true;
  }
  // Flushed to stable storage before the rename: a checkpoint said to be complete survives the
  // node losing power, not only the process dying (collective).
  const int rc_sync = MPI_File_sync(fh);
  if (rc == MPI_SUCCESS) rc = rc_sync;
  const int rc_close = MPI_File_close(&fh);
  if (rc == MPI_SUCCESS) rc = rc_close;
  if (comm.rank() == 0 && rc == MPI_SUCCESS) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(tmp, ec);
    const auto expected =
        header.size() + static_cast<std::uintmax_t>(global_rows * cols) * sizeof(T);
    if (ec || size != expected) short_write = true;
  }
  const int any_failed = comm.allreduce_max<int>(rc != MPI_SUCCESS || short_write ? 1 : 0);
  if (any_failed) {
    if (comm.rank() == 0) {  // leave nothing half-written behind
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
    }
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (rc != MPI_SUCCESS) MPI_Error_string(rc, msg, &len);
    WIDEMAX_FAIL_HINT("free space on that file system, or choose another --out", "writing '",
                      path.string(), "' failed", len ? std::string(": ") + msg : "",
                      " (file system full or read-only?)");
  }
  if (comm.rank() == 0) {
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    WIDEMAX_CHECK(!ec, "cannot rename '", tmp.string(), "' to '", path.string(),
                  "': ", ec.message());
  }
  comm.barrier();
}

template void write_npy_rows<double>(const Communicator&, const std::filesystem::path&,
                                     const double*, std::int64_t, std::int64_t, std::int64_t,
                                     std::int64_t);
template void write_npy_rows<float>(const Communicator&, const std::filesystem::path&, const float*,
                                    std::int64_t, std::int64_t, std::int64_t, std::int64_t);

}  // namespace widemax::comm
