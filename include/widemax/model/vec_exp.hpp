// Vectorised exp over arrays, from SLEEF (1 ulp), dispatched at run time to AVX-512 or AVX2, with
// a scalar std::exp fallback. It replaces -ffast-math (which would change the semantics of every
// other loop) as the way to get a vector exp. In-place and out-of-place forms.
#pragma once

#include <cstdint>

namespace widemax::model {

void vec_exp(const double* x, double* y, std::int64_t n);
void vec_exp(const float* x, float* y, std::int64_t n);
// y = exp(x - shift): the subtraction of the softmax maximum folded into the same sweep.
void vec_exp_shifted(const double* x, double shift, double* y, std::int64_t n);
void vec_exp_shifted(const float* x, float shift, float* y, std::int64_t n);

// The instruction set the dispatcher chose: "avx512", "avx2" or "scalar".
const char* vec_exp_isa();

}  // namespace widemax::model
