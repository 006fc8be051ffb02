// SLEEF's AVX-512 exp over arrays; compiled with -mavx512f, called only when the CPU has it.
#include <immintrin.h>
#include <sleef.h>

#include <cmath>
#include <cstdint>

namespace widemax::model::detail {

void vec_exp_avx512(const double* x, double* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm512_storeu_pd(y + i, Sleef_expd8_u10avx512f(_mm512_loadu_pd(x + i)));
  for (; i < n; ++i) y[i] = std::exp(x[i]);
}

void vec_exp_avx512(const float* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, Sleef_expf16_u10avx512f(_mm512_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = std::exp(x[i]);
}

}  // namespace widemax::model::detail
