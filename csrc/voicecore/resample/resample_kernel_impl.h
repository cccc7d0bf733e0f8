// The output loop shared by every ISA path. Include it only from a kernel .cc
// file, after defining that file's dot-product functors: everything here has
// internal linkage, so the baseline and AVX2 instantiations can never be
// merged by the linker (an ODR merge could run AVX2 code on a CPU without it).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "voicecore/resample/resampler.h"

namespace voicecore::resample {
namespace {

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
struct Store<std::int16_t> {
  template <typename S>
  static std::int16_t Convert(S v) {
    // Clamp first so the rounding can never leave the int16 range; nearbyint
    // rounds half to even in the default rounding mode.
    v = v < S(-32768) ? S(-32768) : (v > S(32767) ? S(32767) : v);
    return static_cast<std::int16_t>(std::nearbyint(v));
  }
};

// Computes every output whose input window lies inside the history, writing
// interleaved frames to `out_raw`. `Dot` is a functor with
//   S operator()(const S* taps, const S* x, size_t padded_taps)
// and `Dot2` the same for two channels sharing the taps.
template <typename S, typename Out, typename Dot, typename Dot2>
std::size_t RunKernel(KernelState& st, void* out_raw, std::size_t max_frames) {
  const PolyphaseFilter& filter = *st.filter;
  const std::size_t taps = filter.num_taps();
  const std::size_t padded = filter.padded_taps();
  const S* hist = static_cast<const S*>(st.history);
  Out* out = static_cast<Out*>(out_raw);
  const int channels = st.num_channels;
  const std::size_t stride = st.channel_stride;
  const std::int64_t l = st.interpolation;
  std::size_t w = st.window;
  std::int64_t p = st.phase;
  std::size_t n = 0;
  const Dot dot;
  const Dot2 dot2;

  auto row = [&filter](std::size_t phase) -> const S* {
    if constexpr (sizeof(S) == sizeof(double)) {
      return filter.PhaseF64(phase);
    } else {
      return filter.PhaseF32(phase);
    }
  };

  if (!filter.interpolated()) {
    while (n < max_frames && w + taps <= st.history_len) {
      const S* h = row(static_cast<std::size_t>(p));
      if (channels == 1) {
        out[n] = Store<Out>::Convert(dot(h, hist + w, padded));
      } else {
        int c = 0;
        for (; c + 1 < channels; c += 2) {
          S a, b;
          dot2(h, hist + c * stride + w, hist + (c + 1) * stride + w, padded, &a, &b);
          out[n * channels + c] = Store<Out>::Convert(a);
          out[n * channels + c + 1] = Store<Out>::Convert(b);
        }
        if (c < channels) {
          out[n * channels + c] = Store<Out>::Convert(dot(h, hist + c * stride + w, padded));
        }
      }
      ++n;
      w += static_cast<std::size_t>(st.step_whole);
      p += st.step_frac;
      if (p >= l) {
        p -= l;
        ++w;
      }
    }
  } else {
    const auto grid = static_cast<std::uint64_t>(filter.grid_phases());
    const S inv_l = S(1) / static_cast<S>(l);
    while (n < max_frames && w + taps <= st.history_len) {
      // Exact integer position on the grid; only the blend weight is rounded.
      const std::uint64_t pos = static_cast<std::uint64_t>(p) * grid;
      const auto i = static_cast<std::size_t>(pos / static_cast<std::uint64_t>(l));
      const S frac = static_cast<S>(pos % static_cast<std::uint64_t>(l)) * inv_l;
      const S* h0 = row(i);
      const S* h1 = row(i + 1);
      for (int c = 0; c < channels; ++c) {
        const S* x = hist + c * stride + w;
        const S d0 = dot(h0, x, padded);
        const S d1 = dot(h1, x, padded);
        out[n * channels + c] = Store<Out>::Convert(d0 + frac * (d1 - d0));
      }
      ++n;
      w += static_cast<std::size_t>(st.step_whole);
      p += st.step_frac;
      if (p >= l) {
        p -= l;
        ++w;
      }
    }
  }
  st.window = w;
  st.phase = p;
  return n;
}

template <typename Dot, typename Dot2, typename DotD, typename Dot2D>
KernelFn SelectKernel(bool double_precision, bool int16_out) {
  if (double_precision) {
    return int16_out ? &RunKernel<double, std::int16_t, DotD, Dot2D>
                     : &RunKernel<double, float, DotD, Dot2D>;
  }
  return int16_out ? &RunKernel<float, std::int16_t, Dot, Dot2>
                   : &RunKernel<float, float, Dot, Dot2>;
}

}  // namespace
}  // namespace voicecore::resample
