// What the CPU can run (cpuid, and xgetbv for what the operating system saves), and the pure rule
// that matches it against the BLAS kernels a library chose: which OpenBLAS core the CPU supports
// best, and whether the one running is below it (issue 36: Debian 12's OpenBLAS 0.3.21 does not
// know newer CPU models and falls back to its Prescott SSE3 kernels, 3.8x slower on AVX-512).
// No BLAS and no MPI here: cli/runtime_info.cpp asks the library and applies the choice.
#pragma once

#include <string>

namespace widemax {

struct CpuFeatures {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ...
  int family = 0, model = 0;
  bool sse3 = false, avx = false, fma = false, avx2 = false;
  bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false;
  bool avx512_bf16 = false, amx_tile = false;
  // The widest vector the CPU and OS both support: 512, 256 or 128 bits.
  int vector_bits() const;
  // One line: "AuthenticAMD family 25 model 1: AVX2 FMA" etc.
  std::string text() const;
};

// This CPU (cpuid leaves 1 and 7, xgetbv for the ymm/zmm/AMX state).
CpuFeatures detect_cpu();

// An OpenBLAS core name's instruction-set tier: 1 SSE (Prescott, Nehalem, Opteron, ...), 2 AVX
// (Sandybridge, Bulldozer, ...), 3 AVX2 + FMA (Haswell, Zen), 4 AVX-512 (SkylakeX, Cooperlake,
// SapphireRapids); 0 for a name not known here. Case-insensitive.
int openblas_core_tier(const std::string& core);
// The tier a CPU supports (the same scale).
int cpu_tier(const CpuFeatures& cpu);
// The OpenBLAS core to ask for on this CPU: SkylakeX for AVX-512, Zen (AMD) or Haswell for AVX2,
// Sandybridge for AVX, Prescott below. SkylakeX rather than Cooperlake or SapphireRapids: every
// OpenBLAS since 0.3.x has it, and its GEMM kernels are the ones those newer cores use for fp64
// and fp32.
std::string best_openblas_core(const CpuFeatures& cpu);

// What to do about the BLAS kernels, decided before the library is used (OpenBLAS reads
// OPENBLAS_CORETYPE once, when it is loaded, so a change needs a new process image).
struct BlasCoreChoice {
  enum class Action { kKeep, kReexec, kRefuse };
  Action action = Action::kKeep;
  std::string target;  // with kReexec: the OPENBLAS_CORETYPE to set
  std::string how;     // "detected" | "forced" | "user" | "kept"
  std::string why;     // one sentence for the start-up line and config.json
};

// running: openblas_get_corename() in this process; user_coretype: OPENBLAS_CORETYPE as the user
// set it (nullptr when unset); request: WIDEMAX_BLAS_CORE ("auto" or empty, "keep", or a core name
// to force); reexecuted_from: the core the library chose before widemax re-executed itself
// (WIDEMAX_BLAS_REEXEC; nullptr when this is the first image). The rules:
//   - after a re-execution nothing is re-executed again (no loop), whatever the library chose;
//   - a core name in WIDEMAX_BLAS_CORE is forced (refused when the CPU cannot run it);
//   - "keep", or OPENBLAS_CORETYPE set by the user, keeps the library's choice (the user's wins);
//   - otherwise a core below the CPU's tier is replaced by best_openblas_core.
BlasCoreChoice choose_blas_core(const std::string& running, const CpuFeatures& cpu,
                                const char* user_coretype, const char* request,
                                const char* reexecuted_from);

}  // namespace widemax
