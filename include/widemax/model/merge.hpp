// The exact merge of two softmax partials (docs/design.md §2.1). A partial over a set of neurons,
// for one sample, is the record (M, S, u_1..u_k) with M = max z_r, S = sum exp(z_r - M), u = sum
// a_r exp(z_r - M). Two records merge to the record of the union of their sets:
//   M = max(M1, M2);  S = S1 e^{M1-M} + S2 e^{M2-M};  u = u1 e^{M1-M} + u2 e^{M2-M}.
// The identity is (-inf, 0, 0) (an empty shard). Pure and header-only: used by the kernels, by the
// thread reduction and inside the MPI_Op of comm/.
#pragma once

#include <cmath>
#include <limits>

namespace widemax::model {

// Record layout: [M, S, u_0, ..., u_{width-3}].
template <class T>
inline void merge_record(const T* in, T* inout, int width) {
  const T m_in = in[0];
  const T m_io = inout[0];
  if (m_in == -std::numeric_limits<T>::infinity()) return;  // merging the identity
  if (m_io == -std::numeric_limits<T>::infinity()) {
    for (int j = 0; j < width; ++j) inout[j] = in[j];
    return;
  }
  const T m = m_in > m_io ? m_in : m_io;
  const T f_in = std::exp(m_in - m);
  const T f_io = std::exp(m_io - m);
  inout[0] = m;
  for (int j = 1; j < width; ++j) inout[j] = in[j] * f_in + inout[j] * f_io;
}

template <class T>
inline void set_identity(T* record, int width) {
  record[0] = -std::numeric_limits<T>::infinity();
  for (int j = 1; j < width; ++j) record[j] = T(0);
}

}  // namespace widemax::model
