// SLEEF's AVX2 exp(x - shift) over arrays; compiled with -mavx2 -mfma, called only when the CPU has
// them.
#include <immintrin.h>
#include <sleef.h>

#include <cmath>
#include <cstdint>

namespace widemax::model::detail {

void vec_exp_avx2(const double* x, double shift, double* y, std::int64_t n) {
  const auto s = _mm256_set1_pd(shift);
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(y + i, Sleef_expd4_u10avx2(_mm256_sub_pd(_mm256_loadu_pd(x + i), s)));
  for (; i < n; ++i) y[i] = std::exp(x[i] - shift);
}

void vec_exp_avx2(const float* x, float shift, float* y, std::int64_t n) {
  const auto s = _mm256_set1_ps(shift);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
  for (; i < n; ++i) y[i] = std::exp(x[i] - shift);
}

}  // namespace widemax::model::detail
