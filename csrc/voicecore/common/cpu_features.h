// Runtime CPU feature detection, so one portable wheel can pick faster paths.
#pragma once

#include <string>

namespace voicecore {

struct CpuFeatures {
  bool sse2 = false;
  bool avx2 = false;
  bool fma = false;
  bool neon = false;
};

const CpuFeatures& GetCpuFeatures();
// Comma-separated list of the ISA paths this build can dispatch to on this CPU.
std::string DescribeIsaPaths();

}  // namespace voicecore
