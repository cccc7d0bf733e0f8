// Kernel entry points per ISA path. Each path lives in its own translation
// unit (resample_kernels.cc for the baseline ISA, resample_kernels_avx2.cc for
// AVX2+FMA); the resampler picks one once, in its constructor.
#pragma once

#include "voicecore/resample/resampler.h"

namespace voicecore::resample {

// `double_precision`: the filter table is double; `int16_out`: the kernel
// writes int16 (rounded half-to-even, saturated), else float.
KernelFn SelectBaselineKernel(bool double_precision, bool int16_out);
// nullptr when this build has no AVX2 path (non-x86 targets).
KernelFn SelectAvx2Kernel(bool double_precision, bool int16_out);

}  // namespace voicecore::resample
