// SLEEF's AVX-512 exp(x - shift) over arrays; compiled with -mavx512f, called only when the CPU has
// it.
#include <immintrin.h>
#include <sleef.h>

#include <cmath>
#include <cstdint>

namespace widemax::model::detail {

void vec_exp_avx512(const double* x, double shift, double* y, std::int64_t n) {
  const auto s = _mm512_set1_pd(shift);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm512_storeu_pd(y + i, Sleef_expd8_u10avx512f(_mm512_sub_pd(_mm512_loadu_pd(x + i), s)));
  for (; i < n; ++i) y[i] = std::exp(x[i] - shift);
}

void vec_exp_avx512(const float* x, float shift, float* y, std::int64_t n) {
  const auto s = _mm512_set1_ps(shift);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
  for (; i < n; ++i) y[i] = std::exp(x[i] - shift);
}

}  // namespace widemax::model::detail
