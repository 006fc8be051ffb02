// The user-defined MPI_Op behind Communicator::allreduce_softmax_merge: one all-reduce merges the
// per-sample (M, S, u) records of every rank (docs/design.md §2.1). The record width is read from
// the datatype, so one op per element type serves every d_out. The ops are created on first use and
// freed by an MPI attribute callback on MPI_COMM_SELF, which MPI runs at the start of MPI_Finalize.
#include <mpi.h>

#include "mpi_types.hpp"
#include "widemax/model/merge.hpp"

namespace widemax::comm::detail {

namespace {

template <class T>
void merge_fn(void* in, void* inout, int* len, MPI_Datatype* dtype) {
  int bytes = 0;
  MPI_Type_size(*dtype, &bytes);
  const int width = bytes / static_cast<int>(sizeof(T));
  const T* a = static_cast<const T*>(in);
  T* b = static_cast<T*>(inout);
  for (int i = 0; i < *len; ++i) model::merge_record(a + i * width, b + i * width, width);
}

MPI_Op g_ops[2] = {MPI_OP_NULL, MPI_OP_NULL};

int free_ops(MPI_Comm, int, void*, void*) {
  for (MPI_Op& op : g_ops)
    if (op != MPI_OP_NULL) MPI_Op_free(&op);
  return MPI_SUCCESS;
}

void register_cleanup() {
  static bool done = false;
  if (done) return;
  int key = MPI_KEYVAL_INVALID;
  MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, free_ops, &key, nullptr);
  MPI_Comm_set_attr(MPI_COMM_SELF, key, nullptr);
  done = true;
}

template <class T>
MPI_Op& slot();
template <>
MPI_Op& slot<double>() {
  return g_ops[0];
}
template <>
MPI_Op& slot<float>() {
  return g_ops[1];
}

}  // namespace

template <class T>
MPI_Op softmax_merge_op() {
  MPI_Op& op = slot<T>();
  if (op == MPI_OP_NULL) {
    register_cleanup();
    WIDEMAX_MPI(MPI_Op_create(&merge_fn<T>, /*commute=*/1, &op));
  }
  return op;
}

template MPI_Op softmax_merge_op<double>();
template MPI_Op softmax_merge_op<float>();

}  // namespace widemax::comm::detail
