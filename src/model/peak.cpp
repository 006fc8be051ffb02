// Run-time dispatch and timing of the FMA peak. See peak.hpp.
#include "widemax/model/peak.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace widemax::model {

namespace {

double scalar_chains(long iters) {
  double a[16];
  for (int k = 0; k < 16; ++k) a[k] = 1.0 + 1e-9 * k;
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = std::fma(a[k], 0.999999999, 1e-9);
  double s = 0;
  for (double x : a) s += x;
  return s;
}

volatile double g_sink = 0;  // keeps the chains' results observable

}  // namespace

FmaPeak measure_fma_peak(int threads, bool fp32, double seconds) {
  __builtin_cpu_init();
  FmaPeak p;
  p.threads = std::max(threads, 1);
  if (__builtin_cpu_supports("avx512f")) {
    p.isa = "avx512", p.vector_bits = 512, p.chains = detail::kChainsAvx512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    p.isa = "avx2", p.vector_bits = 256, p.chains = detail::kChainsAvx2;
  } else {
    p.isa = "scalar", p.vector_bits = 64, p.chains = 16;  // scalar_chains' 16
  }
  const int lanes = p.vector_bits == 64 ? 1 : p.vector_bits / (fp32 ? 32 : 64);
  auto run = [&](long iters) {
    if (p.isa == "avx512") return detail::fma_chains_avx512(iters, fp32);
    if (p.isa == "avx2") return detail::fma_chains_avx2(iters, fp32);
    return scalar_chains(iters);
  };
  using clock = std::chrono::steady_clock;
  // Calibrate one thread to about `seconds`, then run that count on every thread at once.
  long iters = 1 << 14;
  for (;;) {
    const auto t0 = clock::now();
    g_sink = g_sink + run(iters);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt > seconds / 4 || iters > (1L << 34)) {
      iters = static_cast<long>(static_cast<double>(iters) * seconds / std::max(dt, 1e-9));
      break;
    }
    iters *= 4;
  }
  iters = std::max(iters, 1L << 12);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<double> sinks(static_cast<std::size_t>(p.threads));
    const auto t0 = clock::now();
#pragma omp parallel num_threads(p.threads)
    sinks[static_cast<std::size_t>(omp_get_thread_num())] = run(iters);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    for (double s : sinks) g_sink = g_sink + s;
    const double flops = 2.0 * lanes * p.chains * static_cast<double>(iters) * p.threads;
    best = std::max(best, flops / dt * 1e-9);
  }
  p.gflops = best;
  return p;
}

}  // namespace widemax::model
