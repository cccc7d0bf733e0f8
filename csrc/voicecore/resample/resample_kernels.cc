// Baseline-ISA kernels (SSE2 on x86-64, NEON on aarch64). The dot products keep
// a fixed number of independent partial sums and reduce them in a fixed order:
// the compiler vectorises the lanes at -O3 without reassociating anything, so
// the result never depends on how the history happens to be aligned.
#include <cstddef>

#include "voicecore/resample/resample_kernels.h"

namespace voicecore::resample {
namespace {

template <typename S, int kLanes>
struct LaneDot {
  S operator()(const S* h, const S* x, std::size_t n) const {
    S acc[kLanes] = {};
    for (std::size_t i = 0; i < n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) acc[k] += h[i + k] * x[i + k];
    }
    for (int width = kLanes / 2; width > 0; width /= 2) {
      for (int k = 0; k < width; ++k) acc[k] += acc[k + width];
    }
    return acc[0];
  }
};

template <typename S, int kLanes>
struct LaneDot2 {
  void operator()(const S* h, const S* x0, const S* x1, std::size_t n, S* y0, S* y1) const {
    const LaneDot<S, kLanes> dot;
    *y0 = dot(h, x0, n);
    *y1 = dot(h, x1, n);
  }
};

template <typename S, int kLanes>
struct LaneDot3H {
  void operator()(const S* h, const S* x0, const S* x1, const S* x2, std::size_t n, S* y) const {
    const LaneDot<S, kLanes> dot;
    y[0] = dot(h, x0, n);
    y[1] = dot(h, x1, n);
    y[2] = dot(h, x2, n);
  }
};

template <typename S, int kLanes>
struct LaneDot3X {
  void operator()(const S* h0, const S* h1, const S* h2, const S* x, std::size_t n, S* y) const {
    const LaneDot<S, kLanes> dot;
    y[0] = dot(h0, x, n);
    y[1] = dot(h1, x, n);
    y[2] = dot(h2, x, n);
  }
};

template <typename S, int kLanes>
struct LaneKernels {
  using Dot = LaneDot<S, kLanes>;
  using Dot2 = LaneDot2<S, kLanes>;
  using Dot3H = LaneDot3H<S, kLanes>;
  using Dot3X = LaneDot3X<S, kLanes>;
};

}  // namespace
}  // namespace voicecore::resample

#include "voicecore/resample/resample_kernel_impl.h"

namespace voicecore::resample {

KernelFn SelectBaselineNativeKernel(bool double_precision) {
  return SelectNativeKernel<LaneKernels<float, 16>, LaneKernels<double, 8>>(double_precision);
}

HalfbandKernels SelectBaselineHalfband() {
  return SelectHalfband<LaneKernels<float, 16>, LaneKernels<double, 8>>();
}

KernelFn SelectBaselineKernel(bool double_precision, bool int16_out) {
  return SelectKernel<LaneKernels<float, 16>, LaneKernels<double, 8>>(double_precision,
                                                                      int16_out);
}

}  // namespace voicecore::resample
