// Run-time dispatch of the vectorised exp. See vec_exp.hpp.
#include "widemax/model/vec_exp.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace widemax::model {

namespace detail {
void vec_exp_avx512(const double* x, double shift, double* y, std::int64_t n);
void vec_exp_avx512(const float* x, float shift, float* y, std::int64_t n);
void vec_exp_avx2(const double* x, double shift, double* y, std::int64_t n);
void vec_exp_avx2(const float* x, float shift, float* y, std::int64_t n);
}  // namespace detail

namespace {
enum class Isa { kAvx512, kAvx2, kScalar };

Isa pick() {
  // WIDEMAX_EXP_ISA=scalar|avx2 forces a lower tier (for tests and comparisons).
  const char* force = std::getenv("WIDEMAX_EXP_ISA");
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  const bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (force && std::strcmp(force, "scalar") == 0) return Isa::kScalar;
  if (force && std::strcmp(force, "avx2") == 0) return has2 ? Isa::kAvx2 : Isa::kScalar;
  return has512 ? Isa::kAvx512 : has2 ? Isa::kAvx2 : Isa::kScalar;
}

Isa isa() {
  static const Isa chosen = pick();
  return chosen;
}

template <class T>
void dispatch(const T* x, T shift, T* y, std::int64_t n) {
  switch (isa()) {
    case Isa::kAvx512:
      detail::vec_exp_avx512(x, shift, y, n);
      return;
    case Isa::kAvx2:
      detail::vec_exp_avx2(x, shift, y, n);
      return;
    case Isa::kScalar:
      for (std::int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i] - shift);
      return;
  }
}
}  // namespace

// x - 0 is x exactly, so the plain form is the shifted one with shift 0.
void vec_exp(const double* x, double* y, std::int64_t n) {
  dispatch(x, 0.0, y, n);
}
void vec_exp(const float* x, float* y, std::int64_t n) {
  dispatch(x, 0.0f, y, n);
}
void vec_exp_shifted(const double* x, double shift, double* y, std::int64_t n) {
  dispatch(x, shift, y, n);
}
void vec_exp_shifted(const float* x, float shift, float* y, std::int64_t n) {
  dispatch(x, shift, y, n);
}

const char* vec_exp_isa() {
  switch (isa()) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    default:
      return "scalar";
  }
}

}  // namespace widemax::model
