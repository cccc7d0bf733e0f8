#include "voicecore/common/cpu_features.h"

namespace voicecore {

namespace {
CpuFeatures Detect() {
  CpuFeatures f;
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
