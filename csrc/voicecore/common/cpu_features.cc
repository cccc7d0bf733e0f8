#include "voicecore/common/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace voicecore {

namespace {
// VOICECORE_ISA=baseline hides every optional ISA extension, so the portable
// kernels can be tested (and compared) on a machine that has AVX2. It is read
// once, at the first kernel construction, hence per process.
bool BaselineForced() {
  const char* isa = std::getenv("VOICECORE_ISA");
  return isa != nullptr && std::strcmp(isa, "baseline") == 0;
}

CpuFeatures Detect() {
  CpuFeatures f;
  if (BaselineForced()) return f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.sse2 = __builtin_cpu_supports("sse2");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
#elif defined(__aarch64__)
  f.neon = true;
#endif
  return f;
}
}  // namespace

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

std::string DescribeIsaPaths() {
  const CpuFeatures& f = GetCpuFeatures();
  std::string out = "scalar";
  if (f.sse2) out += ",sse2";
  if (f.avx2 && f.fma) out += ",avx2+fma";
  if (f.neon) out += ",neon";
  return out;
}

}  // namespace voicecore
