// The AVX2 FMA chains of measure_fma_peak; compiled with -mavx2 -mfma, called only when the CPU
// has them.
#include <immintrin.h>

#include "widemax/model/peak.hpp"

namespace widemax::model::detail {

namespace {
// 12 accumulators, not 16: AVX2 has 16 ymm registers, and 16 chains plus the two operands spill
// to memory, which halves the rate (measured on Zen 3: 48 against 96 GFLOP/s fp32 per core).
// 12 still cover the FMA latency (4-5 cycles) on two ports.
constexpr int kChains = kChainsAvx2;

template <class V, class Set, class Fma, class Add, class Sum>
double chains(long iters, Set set, Fma fma, Add add, Sum sum) {
  V a[kChains];
  for (int k = 0; k < kChains; ++k) a[k] = set(1.0 + 1e-9 * k);
  const V x = set(0.999999999), y = set(1e-9);
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < kChains; ++k) a[k] = fma(a[k], x, y);
  V s = a[0];
  for (int k = 1; k < kChains; ++k) s = add(s, a[k]);
  return sum(s);
}

double hsum(__m256d v) {
  alignas(32) double t[4];
  _mm256_store_pd(t, v);
  return t[0] + t[1] + t[2] + t[3];
}
double hsum(__m256 v) {
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  double s = 0;
  for (float x : t) s += x;
  return s;
}
}  // namespace

double fma_chains_avx2(long iters, bool fp32) {
  if (fp32)
    return chains<__m256>(
        iters, [](double v) { return _mm256_set1_ps(static_cast<float>(v)); },
        [](__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); },
        [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); }, [](__m256 a) { return hsum(a); });
  return chains<__m256d>(
      iters, [](double v) { return _mm256_set1_pd(v); },
      [](__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); },
      [](__m256d a, __m256d b) { return _mm256_add_pd(a, b); }, [](__m256d a) { return hsum(a); });
}

}  // namespace widemax::model::detail
