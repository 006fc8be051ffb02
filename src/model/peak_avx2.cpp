// The AVX2 FMA chains of measure_fma_peak; compiled with -mavx2 -mfma, called only when the CPU
// has them. 12 chains, not 16: AVX2 has 16 ymm registers, and 16 accumulators plus the two
// operands spill to memory, which halved the measured rate (Zen 3, fp32: 48 against 96 GFLOP/s
// per core); 12 still cover the FMA latency (4-5 cycles) on two ports.
#include <immintrin.h>

#include "fma_chains.hpp"
#include "widemax/model/peak.hpp"

namespace widemax::model::detail {

double fma_chains_avx2(long iters, bool fp32) {
  if (fp32) {
    const __m256 s = fma_chains<kChainsAvx2, __m256>(
        iters, [](double v) { return _mm256_set1_ps(static_cast<float>(v)); },
        [](__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); },
        [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); });
    return horizontal_sum<float, 8>(s, [](float* t, __m256 v) { _mm256_store_ps(t, v); });
  }
  const __m256d s = fma_chains<kChainsAvx2, __m256d>(
      iters, [](double v) { return _mm256_set1_pd(v); },
      [](__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); },
      [](__m256d a, __m256d b) { return _mm256_add_pd(a, b); });
  return horizontal_sum<double, 4>(s, [](double* t, __m256d v) { _mm256_store_pd(t, v); });
}

}  // namespace widemax::model::detail
