// Maps C++ types to MPI datatypes. Private to comm/: nothing outside this folder spells a datatype.
#pragma once

#include <mpi.h>

#include <cstdint>

namespace widemax::comm::detail {

template <class T>
MPI_Datatype mpi_type();
template <>
inline MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}
template <>
inline MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
inline MPI_Datatype mpi_type<int>() {
  return MPI_INT;
}
template <>
inline MPI_Datatype mpi_type<std::int64_t>() {
  return MPI_INT64_T;
}
template <>
inline MPI_Datatype mpi_type<std::uint64_t>() {
  return MPI_UINT64_T;
}
template <>
inline MPI_Datatype mpi_type<char>() {
  return MPI_CHAR;
}

// Checks an MPI return code; MPI's default handler aborts first, this catches MPI_ERRORS_RETURN.
void check_mpi(int rc, const char* what, const char* file, int line);

// The user-defined MPI_Op that merges softmax partials; created once per type, freed at exit.
template <class T>
MPI_Op softmax_merge_op();

}  // namespace widemax::comm::detail

#define WIDEMAX_MPI(call) ::widemax::comm::detail::check_mpi((call), #call, __FILE__, __LINE__)
