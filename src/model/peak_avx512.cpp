// The AVX-512 FMA chains of measure_fma_peak; compiled with -mavx512f, called only when the CPU
// has it. 16 chains of its 32 zmm registers cover the FMA latency (4 cycles) on two ports. The
// sums go through memory: GCC 12's _mm512_reduce_add_* warn inside their own header.
#include <immintrin.h>

#include "fma_chains.hpp"
#include "widemax/model/peak.hpp"

namespace widemax::model::detail {

double fma_chains_avx512(long iters, bool fp32) {
  if (fp32) {
    const __m512 s = fma_chains<kChainsAvx512, __m512>(
        iters, [](double v) { return _mm512_set1_ps(static_cast<float>(v)); },
        [](__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); },
        [](__m512 a, __m512 b) { return _mm512_add_ps(a, b); });
    return horizontal_sum<float, 16>(s, [](float* t, __m512 v) { _mm512_store_ps(t, v); });
  }
  const __m512d s = fma_chains<kChainsAvx512, __m512d>(
      iters, [](double v) { return _mm512_set1_pd(v); },
      [](__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); },
      [](__m512d a, __m512d b) { return _mm512_add_pd(a, b); });
  return horizontal_sum<double, 8>(s, [](double* t, __m512d v) { _mm512_store_pd(t, v); });
}

}  // namespace widemax::model::detail
