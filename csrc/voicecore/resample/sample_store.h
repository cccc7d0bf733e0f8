// Output conversion shared by the resampler's stages: float passes through,
// int16 is clamped and rounded half to even. Internal linkage on purpose, like
// resample_kernel_impl.h: each kernel .cc (baseline or AVX2) gets its own copy,
// so the linker can never merge an AVX2-compiled instantiation into baseline code.
#pragma once

#include <cmath>
#include <cstdint>

namespace voicecore::resample {
namespace {  // NOLINT(google-build-namespaces): see above

template <typename Out>
struct Store;

template <>
struct Store<float> {
  template <typename S>
  static float Convert(S v) {
    return static_cast<float>(v);
  }
};

template <>
struct Store<double> {
  template <typename S>
  static double Convert(S v) {
    return static_cast<double>(v);
  }
};

template <>
struct Store<std::int16_t> {
  template <typename S>
  static std::int16_t Convert(S v) {
    // Clamp first so the rounding can never leave the int16 range; nearbyint
    // rounds half to even in the default rounding mode.
    v = v < S(-32768) ? S(-32768) : (v > S(32767) ? S(32767) : v);
    return static_cast<std::int16_t>(std::nearbyint(v));
  }
};

}  // namespace
}  // namespace voicecore::resample
