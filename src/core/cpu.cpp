// cpuid feature detection and the BLAS core rule. See cpu.hpp.
#include "widemax/core/cpu.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "widemax/core/error.hpp"

namespace widemax {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

#if defined(__x86_64__) || defined(__i386__)
unsigned long long xgetbv0() {
  unsigned int lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}
#endif

}  // namespace

int CpuFeatures::vector_bits() const {
  if (avx512f) return 512;
  if (avx) return 256;
  return 128;
}

std::string CpuFeatures::text() const {
  std::string s =
      cat(vendor.empty() ? "unknown CPU" : vendor, " family ", family, " model ", model, ":");
  auto add = [&](bool has, const char* name) {
    if (has) s += cat(" ", name);
  };
  add(!avx && sse3, "SSE3");
  add(avx && !avx2, "AVX");
  add(avx2, "AVX2");
  add(fma, "FMA");
  add(avx512f, "AVX-512F");
  add(avx512bw && avx512vl && avx512dq, "BW/VL/DQ");
  add(avx512_bf16, "AVX512_BF16");
  add(amx_tile, "AMX");
  return s;
}

CpuFeatures detect_cpu() {
  CpuFeatures c;
#if defined(__x86_64__) || defined(__i386__)
  unsigned int a = 0, b = 0, cx = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &cx, &d)) return c;
  const unsigned int max_leaf = a;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &cx, 4);
  c.vendor = vendor;
  __get_cpuid(1, &a, &b, &cx, &d);
  const unsigned int base_family = (a >> 8) & 0xf, ext_family = (a >> 20) & 0xff;
  const unsigned int base_model = (a >> 4) & 0xf, ext_model = (a >> 16) & 0xf;
  c.family = static_cast<int>(base_family == 0xf ? base_family + ext_family : base_family);
  c.model = static_cast<int>(
      base_family == 0x6 || base_family == 0xf ? (ext_model << 4) | base_model : base_model);
  c.sse3 = cx & 1u;
  const bool osxsave = cx & (1u << 27);
  const bool avx_cpu = cx & (1u << 28), fma_cpu = cx & (1u << 12);
  // The OS must save the registers too: ymm (XCR0 bits 1-2), zmm and opmasks (bits 5-7), AMX
  // tiles (bits 17-18).
  const unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;
  c.avx = avx_cpu && os_ymm;
  c.fma = fma_cpu && os_ymm;
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, cx, d);
    c.avx2 = (b & (1u << 5)) && os_ymm;
    c.avx512f = (b & (1u << 16)) && os_zmm;
    c.avx512dq = (b & (1u << 17)) && os_zmm;
    c.avx512bw = (b & (1u << 30)) && os_zmm;
    c.avx512vl = (b & (1u << 31)) && os_zmm;
    c.amx_tile = (d & (1u << 24)) && os_amx;
    __cpuid_count(7, 1, a, b, cx, d);
    c.avx512_bf16 = (a & (1u << 5)) && os_zmm;
  }
#endif
  return c;
}

int openblas_core_tier(const std::string& core) {
  const std::string c = lower(core);
  static const char* const kSse[] = {"katmai",       "coppermine", "northwood", "prescott",
                                     "banias",       "atom",       "core2",     "penryn",
                                     "dunnington",   "nehalem",    "athlon",    "opteron",
                                     "opteron_sse3", "barcelona",  "nano",      "bobcat"};
  static const char* const kAvx[] = {"sandybridge", "bulldozer", "piledriver", "steamroller",
                                     "excavator"};
  static const char* const kAvx2[] = {"haswell", "zen"};
  static const char* const kAvx512[] = {"skylakex", "cooperlake", "sapphirerapids"};
  for (const char* n : kSse)
    if (c == n) return 1;
  for (const char* n : kAvx)
    if (c == n) return 2;
  for (const char* n : kAvx2)
    if (c == n) return 3;
  for (const char* n : kAvx512)
    if (c == n) return 4;
  return 0;
}

int cpu_tier(const CpuFeatures& cpu) {
  // OpenBLAS's SkylakeX kernels use AVX-512 F, BW, VL and DQ; Haswell's AVX2 with FMA.
  if (cpu.avx512f && cpu.avx512dq && cpu.avx512bw && cpu.avx512vl && cpu.avx2 && cpu.fma) return 4;
  if (cpu.avx2 && cpu.fma) return 3;
  if (cpu.avx) return 2;
  return 1;
}

std::string best_openblas_core(const CpuFeatures& cpu) {
  switch (cpu_tier(cpu)) {
    case 4:
      return "SkylakeX";
    case 3:
      return cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine" ? "Zen" : "Haswell";
    case 2:
      return "Sandybridge";
    default:
      return "Prescott";
  }
}

BlasCoreChoice choose_blas_core(const std::string& running, const CpuFeatures& cpu,
                                const char* user_coretype, const char* request,
                                const char* reexecuted_from) {
  using A = BlasCoreChoice::Action;
  BlasCoreChoice r;
  const std::string req = request ? lower(request) : "";
  const int have = cpu_tier(cpu), now = openblas_core_tier(running);
  if (reexecuted_from) {
    r.how = req.empty() || req == "auto" ? "detected" : "forced";
    r.why = lower(running) == lower(user_coretype ? user_coretype : "")
                ? cat("the library chose ", reexecuted_from, " on this CPU (", cpu.text(),
                      "); widemax restarted itself with OPENBLAS_CORETYPE=", running)
                : cat("the library chose ", reexecuted_from,
                      "; asked for OPENBLAS_CORETYPE=", user_coretype ? user_coretype : "?",
                      " it runs ", running, " (this OpenBLAS does not know that core)");
    return r;
  }
  if (!req.empty() && req != "auto" && req != "keep") {
    const int want = openblas_core_tier(req);
    if (want == 0) {
      r.action = A::kRefuse;
      r.why = cat("WIDEMAX_BLAS_CORE=", request,
                  " is not an OpenBLAS core name (auto, keep, or one such as Haswell, Zen, "
                  "SkylakeX, Sandybridge, Prescott)");
    } else if (want > have) {
      r.action = A::kRefuse;
      r.why = cat("WIDEMAX_BLAS_CORE=", request, " needs instructions this CPU lacks (", cpu.text(),
                  "; the best it runs is ", best_openblas_core(cpu), ")");
    } else if (lower(running) == req) {
      r.how = "forced";
      r.why = cat("WIDEMAX_BLAS_CORE=", request, " (the library's choice already)");
    } else {
      r.action = A::kReexec;
      r.target = request;
      r.how = "forced";
    }
    return r;
  }
  if (user_coretype && *user_coretype) {
    r.how = "user";
    r.why = cat("OPENBLAS_CORETYPE=", user_coretype, " as set by the user");
    if (now != 0 && now < have)
      r.why += cat("; below what this CPU runs (", best_openblas_core(cpu),
                   "), so GEMMs are slower than they could be");
    return r;
  }
  if (req == "keep") {
    r.how = "kept";
    r.why = "WIDEMAX_BLAS_CORE=keep: the library's own choice";
    return r;
  }
  if (now != 0 && now < have) {
    r.action = A::kReexec;
    r.target = best_openblas_core(cpu);
    r.how = "detected";
    return r;
  }
  r.how = "detected";
  r.why = now == 0 ? cat("the library's own choice (a core widemax does not rank)")
                   : cat("the library's own choice, the best this CPU runs");
  return r;
}

}  // namespace widemax
