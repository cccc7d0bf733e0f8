// The output loop shared by every ISA path. Include it only from a kernel .cc
// file, after defining that file's dot-product functors: everything here has
// internal linkage, so the baseline and AVX2 instantiations can never be
// merged by the linker (an ODR merge could run AVX2 code on a CPU without it).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "voicecore/resample/resample_kernels.h"
#include "voicecore/resample/resampler.h"
#include "voicecore/resample/sample_store.h"

namespace voicecore::resample {
namespace {

// Computes every output whose input window lies inside the history, writing
// interleaved frames to `out_raw`. `Dot` is a functor with
//   S operator()(const S* taps, const S* x, size_t padded_taps)
// `Dot2` the same for two channels sharing the taps, `Dot3H` three windows
// sharing the taps and `Dot3X` three tap rows sharing one window; all must sum
// each output in exactly the order `Dot` does.
template <typename S, typename Out, typename Dot, typename Dot2, typename Dot3H, typename Dot3X>
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
  const Dot3H dot3h;
  const Dot3X dot3x;

  auto row = [&filter](std::size_t phase) -> const S* {
    if constexpr (sizeof(S) == sizeof(double)) {
      return filter.PhaseF64(phase);
    } else {
      return filter.PhaseF32(phase);
    }
  };

  auto advance = [&]() {
    w += static_cast<std::size_t>(st.step_whole);
    p += st.step_frac;
    if (p >= l) {
      p -= l;
      ++w;
    }
  };

  if (!filter.interpolated() && channels == 1) {
    // Mono fast paths. Outputs j, j + L and j + 2L always use the same tap row
    // (their windows are M apart), so once 3L outputs are computable they run
    // in threes sharing every tap load; upsampling leftovers share their input
    // window instead. Each output is still summed exactly as the single dot
    // sums it, so the grouping (which depends on how much input is buffered)
    // never changes a bit.
    const auto big_l = static_cast<std::size_t>(l);
    const auto big_m = static_cast<std::size_t>(st.step_whole * l + st.step_frac);
    std::size_t avail = 0;
    if (w + taps <= st.history_len) {
      const auto d = static_cast<std::int64_t>(st.history_len - taps - w);
      avail = static_cast<std::size_t>(((d + 1) * l - p + static_cast<std::int64_t>(big_m) - 1) /
                                       static_cast<std::int64_t>(big_m));
    }
    if (avail > max_frames) avail = max_frames;
    while (avail - n >= 3 * big_l) {
      const std::size_t w_start = w;
      for (std::size_t j = 0; j < big_l; ++j) {
        S y[3];
        dot3h(row(static_cast<std::size_t>(p)), hist + w, hist + w + big_m, hist + w + 2 * big_m,
              padded, y);
        out[n + j] = Store<Out>::Convert(y[0]);
        out[n + j + big_l] = Store<Out>::Convert(y[1]);
        out[n + j + 2 * big_l] = Store<Out>::Convert(y[2]);
        advance();
      }
      // After L outputs the phase is back where it started, M further on.
      n += 3 * big_l;
      w = w_start + 3 * big_m;
    }
    while (n < avail) {
      if (st.step_whole == 0 && n + 3 <= avail && p + 2 * st.step_frac < l) {
        S y[3];
        const auto p0 = static_cast<std::size_t>(p);
        const auto r = static_cast<std::size_t>(st.step_frac);
        dot3x(row(p0), row(p0 + r), row(p0 + 2 * r), hist + w, padded, y);
        out[n] = Store<Out>::Convert(y[0]);
        out[n + 1] = Store<Out>::Convert(y[1]);
        out[n + 2] = Store<Out>::Convert(y[2]);
        n += 3;
        advance();
        advance();
        advance();
        continue;
      }
      out[n] = Store<Out>::Convert(dot(row(static_cast<std::size_t>(p)), hist + w, padded));
      ++n;
      advance();
    }
  } else if (!filter.interpolated()) {
    while (n < max_frames && w + taps <= st.history_len) {
      const S* h = row(static_cast<std::size_t>(p));
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
      ++n;
      advance();
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
      advance();
    }
  }
  st.window = w;
  st.phase = p;
  return n;
}

// The half-band's odd taps form one row shared by every output, and output
// j + 1's window is output j's moved by one sample: three at a time share the
// tap loads. The centre tap (0.5) is added last, in every case; the
// interpolator passes even = nullptr (its odd outputs have no centre tap).
template <typename S, typename Dot, typename Dot3H>
void RunHalfband(const S* taps, std::size_t padded, const S* even, const S* odd,
                 std::size_t count, S* out) {
  const Dot dot;
  const Dot3H dot3h;
  std::size_t j = 0;
  for (; j + 3 <= count; j += 3) {
    S y[3];
    dot3h(taps, odd + j, odd + j + 1, odd + j + 2, padded, y);
    if (even == nullptr) {
      out[j] = y[0];
      out[j + 1] = y[1];
      out[j + 2] = y[2];
    } else {
      out[j] = y[0] + S(0.5) * even[j];
      out[j + 1] = y[1] + S(0.5) * even[j + 1];
      out[j + 2] = y[2] + S(0.5) * even[j + 2];
    }
  }
  for (; j < count; ++j) {
    const S y = dot(taps, odd + j, padded);
    out[j] = even == nullptr ? y : y + S(0.5) * even[j];
  }
}

template <typename F, typename D>
HalfbandKernels SelectHalfband() {
  HalfbandKernels k;
  k.f32 = &RunHalfband<float, typename F::Dot, typename F::Dot3H>;
  k.f64 = &RunHalfband<double, typename D::Dot, typename D::Dot3H>;
  return k;
}

template <typename F, typename D>
KernelFn SelectKernel(bool double_precision, bool int16_out) {
  if (double_precision) {
    return int16_out ? &RunKernel<double, std::int16_t, typename D::Dot, typename D::Dot2,
                                  typename D::Dot3H, typename D::Dot3X>
                     : &RunKernel<double, float, typename D::Dot, typename D::Dot2,
                                  typename D::Dot3H, typename D::Dot3X>;
  }
  return int16_out ? &RunKernel<float, std::int16_t, typename F::Dot, typename F::Dot2,
                                typename F::Dot3H, typename F::Dot3X>
                   : &RunKernel<float, float, typename F::Dot, typename F::Dot2,
                                typename F::Dot3H, typename F::Dot3X>;
}

// Output in the table's own precision (feeds the half-band interpolator).
template <typename F, typename D>
KernelFn SelectNativeKernel(bool double_precision) {
  if (double_precision) {
    return &RunKernel<double, double, typename D::Dot, typename D::Dot2, typename D::Dot3H,
                      typename D::Dot3X>;
  }
  return &RunKernel<float, float, typename F::Dot, typename F::Dot2, typename F::Dot3H,
                    typename F::Dot3X>;
}

}  // namespace
}  // namespace voicecore::resample
