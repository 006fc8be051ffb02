// The BLAS core rule (core/cpu.hpp) as a table: for a CPU, the core the library chose, the
// user's OPENBLAS_CORETYPE, WIDEMAX_BLAS_CORE and the re-execution mark, what widemax does. The
// expected rows are written from the rule's statement in cpu.hpp, not from running it.
#include <gtest/gtest.h>

#include "widemax/core/cpu.hpp"

namespace widemax {
namespace {

CpuFeatures sapphire() {  // Intel family 6 model 143/207: AVX-512 and AMX
  CpuFeatures c;
  c.vendor = "GenuineIntel", c.family = 6, c.model = 207;
  c.sse3 = c.avx = c.fma = c.avx2 = true;
  c.avx512f = c.avx512dq = c.avx512bw = c.avx512vl = c.avx512_bf16 = c.amx_tile = true;
  return c;
}
CpuFeatures zen3() {
  CpuFeatures c;
  c.vendor = "AuthenticAMD", c.family = 25, c.model = 1;
  c.sse3 = c.avx = c.fma = c.avx2 = true;
  return c;
}
CpuFeatures haswell() {
  CpuFeatures c;
  c.vendor = "GenuineIntel", c.family = 6, c.model = 60;
  c.sse3 = c.avx = c.fma = c.avx2 = true;
  return c;
}
CpuFeatures sandy() {
  CpuFeatures c;
  c.vendor = "GenuineIntel", c.family = 6, c.model = 42;
  c.sse3 = c.avx = true;
  return c;
}
CpuFeatures avx512f_only() {  // Knights Landing-like: F without BW/VL/DQ is not SkylakeX
  CpuFeatures c = haswell();
  c.avx512f = true;
  return c;
}

using A = BlasCoreChoice::Action;
struct Row {
  const char* what;
  CpuFeatures cpu;
  const char* running;
  const char* user;     // OPENBLAS_CORETYPE
  const char* request;  // WIDEMAX_BLAS_CORE
  const char* reexec;   // WIDEMAX_BLAS_REEXEC
  A action;
  const char* target;
  const char* how;
};

TEST(BlasCore, Table) {
  const Row rows[] = {
      {"issue 36: Prescott on AVX-512", sapphire(), "Prescott", nullptr, nullptr, nullptr,
       A::kReexec, "SkylakeX", "detected"},
      {"Haswell on AVX-512 is below it too", sapphire(), "Haswell", nullptr, nullptr, nullptr,
       A::kReexec, "SkylakeX", "detected"},
      {"SkylakeX on AVX-512: kept", sapphire(), "SkylakeX", nullptr, nullptr, nullptr, A::kKeep, "",
       "detected"},
      {"Cooperlake counts as AVX-512", sapphire(), "Cooperlake", nullptr, nullptr, nullptr,
       A::kKeep, "", "detected"},
      {"Zen on Zen 3: kept", zen3(), "Zen", nullptr, nullptr, nullptr, A::kKeep, "", "detected"},
      {"Nehalem on Zen 3: Zen", zen3(), "Nehalem", nullptr, nullptr, nullptr, A::kReexec, "Zen",
       "detected"},
      {"Prescott on Haswell: Haswell", haswell(), "Prescott", nullptr, nullptr, nullptr, A::kReexec,
       "Haswell", "detected"},
      {"Sandybridge on Sandy Bridge: kept", sandy(), "Sandybridge", nullptr, nullptr, nullptr,
       A::kKeep, "", "detected"},
      {"Prescott on Sandy Bridge: Sandybridge", sandy(), "Prescott", nullptr, nullptr, nullptr,
       A::kReexec, "Sandybridge", "detected"},
      {"AVX-512F alone is not SkylakeX's", avx512f_only(), "Haswell", nullptr, nullptr, nullptr,
       A::kKeep, "", "detected"},
      {"the user's OPENBLAS_CORETYPE wins", sapphire(), "Prescott", "Prescott", nullptr, nullptr,
       A::kKeep, "", "user"},
      {"keep keeps the fallback", sapphire(), "Prescott", nullptr, "keep", nullptr, A::kKeep, "",
       "kept"},
      {"auto is the default", sapphire(), "Prescott", nullptr, "auto", nullptr, A::kReexec,
       "SkylakeX", "detected"},
      {"forced below the CPU", sapphire(), "SkylakeX", nullptr, "Haswell", nullptr, A::kReexec,
       "Haswell", "forced"},
      {"forced beats the user's", zen3(), "Zen", "Zen", "Prescott", nullptr, A::kReexec, "Prescott",
       "forced"},
      {"forced, already running it", zen3(), "Haswell", nullptr, "haswell", nullptr, A::kKeep, "",
       "forced"},
      {"forced above the CPU: refused", zen3(), "Zen", nullptr, "SkylakeX", nullptr, A::kRefuse, "",
       ""},
      {"forced to a name OpenBLAS lacks: refused", zen3(), "Zen", nullptr, "Pentium9", nullptr,
       A::kRefuse, "", ""},
      {"after a restart never again (no loop)", sapphire(), "Prescott", "SkylakeX", nullptr,
       "Prescott", A::kKeep, "", "detected"},
      {"after a forced restart", zen3(), "Haswell", "Haswell", "Haswell", "Zen", A::kKeep, "",
       "forced"},
      {"a core the rule does not rank is left alone", sapphire(), "Loongson3R4", nullptr, nullptr,
       nullptr, A::kKeep, "", "detected"},
  };
  for (const Row& r : rows) {
    const BlasCoreChoice c = choose_blas_core(r.running, r.cpu, r.user, r.request, r.reexec);
    EXPECT_EQ(c.action, r.action) << r.what;
    EXPECT_EQ(c.target, r.target) << r.what;
    if (r.action != A::kRefuse) {
      EXPECT_EQ(c.how, r.how) << r.what;
      if (r.action == A::kKeep) EXPECT_FALSE(c.why.empty()) << r.what;
    } else {
      EXPECT_NE(c.why.find("WIDEMAX_BLAS_CORE="), std::string::npos) << r.what;
    }
  }
}

TEST(BlasCore, Tiers) {
  EXPECT_EQ(openblas_core_tier("PRESCOTT"), 1);
  EXPECT_EQ(openblas_core_tier("Sandybridge"), 2);
  EXPECT_EQ(openblas_core_tier("Zen"), 3);
  EXPECT_EQ(openblas_core_tier("SapphireRapids"), 4);
  EXPECT_EQ(openblas_core_tier(""), 0);
  EXPECT_EQ(cpu_tier(sapphire()), 4);
  EXPECT_EQ(cpu_tier(zen3()), 3);
  EXPECT_EQ(best_openblas_core(zen3()), "Zen");
  EXPECT_EQ(best_openblas_core(haswell()), "Haswell");
  EXPECT_EQ(best_openblas_core(CpuFeatures{}), "Prescott");
}

// This machine, against /proc/cpuinfo read independently of cpuid.
TEST(Cpu, DetectAgreesWithProcCpuinfo) {
  const CpuFeatures c = detect_cpu();
  FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) GTEST_SKIP() << "no /proc/cpuinfo";
  std::string flags, vendor;
  char line[8192];
  while (std::fgets(line, sizeof line, f)) {
    const std::string l = line;
    if (flags.empty() && l.rfind("flags", 0) == 0) flags = " " + l.substr(l.find(':') + 1);
    if (vendor.empty() && l.rfind("vendor_id", 0) == 0) vendor = l.substr(l.find(':') + 2);
  }
  std::fclose(f);
  for (char& ch : flags)
    if (ch == '\n') ch = ' ';
  if (!vendor.empty() && vendor.back() == '\n') vendor.pop_back();
  auto has = [&](const char* name) {
    return flags.find(std::string(" ") + name + " ") != std::string::npos;
  };
  EXPECT_EQ(c.vendor, vendor);
  EXPECT_EQ(c.avx2, has("avx2"));
  EXPECT_EQ(c.fma, has("fma"));
  EXPECT_EQ(c.avx512f, has("avx512f"));
  EXPECT_EQ(c.avx512bw, has("avx512bw"));
  EXPECT_EQ(c.amx_tile, has("amx_tile"));
}

}  // namespace
}  // namespace widemax
