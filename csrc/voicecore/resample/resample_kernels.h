// Kernel entry points per ISA path. Each path lives in its own translation
// unit (resample_kernels.cc for the baseline ISA, resample_kernels_avx2.cc for
// AVX2+FMA); the resampler picks one once, in its constructor.
#pragma once

#include <cstddef>

#include "voicecore/resample/resampler.h"

namespace voicecore::resample {

// Half-band decimator outputs: out[j] = 0.5 * even[j] + dot(taps, odd + j),
// `padded` taps (zero-padded to PolyphaseFilter::kTapAlign).
template <typename S>
using HalfbandFn = void (*)(const S* taps, std::size_t padded, const S* even, const S* odd,
                            std::size_t count, S* out);
struct HalfbandKernels {
  HalfbandFn<float> f32 = nullptr;
  HalfbandFn<double> f64 = nullptr;
};
HalfbandKernels SelectBaselineHalfband();
HalfbandKernels SelectAvx2Halfband();  // {nullptr, nullptr} without an AVX2 path

// `double_precision`: the filter table is double; `int16_out`: the kernel
// writes int16 (rounded half-to-even, saturated), else float.
KernelFn SelectBaselineKernel(bool double_precision, bool int16_out);
// nullptr when this build has no AVX2 path (non-x86 targets).
KernelFn SelectAvx2Kernel(bool double_precision, bool int16_out);
// Kernels writing the table's own precision (float or double), interleaved.
KernelFn SelectBaselineNativeKernel(bool double_precision);
KernelFn SelectAvx2NativeKernel(bool double_precision);

}  // namespace voicecore::resample
