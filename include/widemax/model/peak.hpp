// The hardware's floating-point peak, measured on the spot: every OpenMP thread runs independent
// chains of fused multiply-adds (16 with AVX-512's 32 registers, 12 with AVX2's 16) on the widest
// vectors the CPU has (AVX-512, else AVX2+FMA, else scalar), so the rate is what the cores deliver
// now (turbo, sharing, throttling included), for the precision in use. It is the ceiling a GEMM's
// rate is read against (bench, summary.json): a BLAS running kernels below the CPU reaches a small
// fraction of it. No MPI: a rank measures its own threads; the caller decides who measures when.
#pragma once

#include <string>

namespace widemax::model {

struct FmaPeak {
  double gflops = 0;  // all threads together, 2 FLOPs per FMA lane
  int threads = 0;
  int vector_bits = 0;  // 512, 256 or 64 (scalar)
  int chains = 0;       // independent FMA chains per thread
  std::string isa;      // "avx512", "avx2", "scalar"
};

// fp32: single precision lanes (twice as many per vector). seconds: the time measured, per
// repeat; the best of three repeats is kept.
FmaPeak measure_fma_peak(int threads, bool fp32, double seconds = 0.05);

namespace detail {
// FMA chains for `iters` rounds; returns a value that depends on every chain (so none is
// optimised away). Each round is kChainsAvx512 or kChainsAvx2 vector FMAs.
double fma_chains_avx512(long iters, bool fp32);
double fma_chains_avx2(long iters, bool fp32);
constexpr int kChainsAvx512 = 16, kChainsAvx2 = 12;
}  // namespace detail

}  // namespace widemax::model
