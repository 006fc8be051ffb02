// The AVX-512 FMA chains of measure_fma_peak; compiled with -mavx512f, called only when the CPU
// has it.
#include <immintrin.h>

#include "widemax/model/peak.hpp"

namespace widemax::model::detail {

namespace {
template <class V, class Set, class Fma, class Add, class Sum>
double chains(long iters, Set set, Fma fma, Add add, Sum sum) {
  // 16 accumulators (of 32 zmm registers): enough independent chains to cover the FMA latency
  // (4 cycles) on two ports.
  V a[kChainsAvx512];
  for (int k = 0; k < kChainsAvx512; ++k) a[k] = set(1.0 + 1e-9 * k);
  const V x = set(0.999999999), y = set(1e-9);
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < kChainsAvx512; ++k) a[k] = fma(a[k], x, y);
  V s = a[0];
  for (int k = 1; k < kChainsAvx512; ++k) s = add(s, a[k]);
  return sum(s);
}
// Horizontal sums through memory: GCC 12's _mm512_reduce_add_* warn of an uninitialised
// variable inside its own header.
double hsum(__m512d v) {
  alignas(64) double t[8];
  _mm512_store_pd(t, v);
  double s = 0;
  for (double x : t) s += x;
  return s;
}
double hsum(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  double s = 0;
  for (float x : t) s += x;
  return s;
}
}  // namespace

double fma_chains_avx512(long iters, bool fp32) {
  if (fp32)
    return chains<__m512>(
        iters, [](double v) { return _mm512_set1_ps(static_cast<float>(v)); },
        [](__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); },
        [](__m512 a, __m512 b) { return _mm512_add_ps(a, b); }, [](__m512 a) { return hsum(a); });
  return chains<__m512d>(
      iters, [](double v) { return _mm512_set1_pd(v); },
      [](__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); },
      [](__m512d a, __m512d b) { return _mm512_add_pd(a, b); }, [](__m512d a) { return hsum(a); });
}

}  // namespace widemax::model::detail
