// The FMA-chain loop of measure_fma_peak (model/peak.hpp) for one vector type, and a horizontal
// sum through memory. Included by peak_avx2.cpp and peak_avx512.cpp, each compiled with its own
// -m flags, which hand it their intrinsics as lambdas; nothing here names an ISA.
#pragma once

namespace widemax::model::detail {

// N independent accumulators a_k <- a_k * x + y for `iters` rounds, then their sum: N chains
// cover the FMA latency on every port as long as they and the two operands fit in registers.
template <int N, class V, class Set, class Fma, class Add>
V fma_chains(long iters, Set set, Fma fma, Add add) {
  V a[N];
  for (int k = 0; k < N; ++k) a[k] = set(1.0 + 1e-9 * k);
  const V x = set(0.999999999), y = set(1e-9);
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < N; ++k) a[k] = fma(a[k], x, y);
  V s = a[0];
  for (int k = 1; k < N; ++k) s = add(s, a[k]);
  return s;
}

// The sum of a vector's Lanes lanes of type T (store: the intrinsic that writes it out).
template <class T, int Lanes, class V, class Store>
double horizontal_sum(V v, Store store) {
  alignas(64) T t[Lanes];
  store(t, v);
  double s = 0;
  for (T x : t) s += x;
  return s;
}

}  // namespace widemax::model::detail
