// AVX2+FMA kernels, selected at run time when the CPU has both. Functions are
// compiled for that ISA through target attributes, so the rest of the library
// stays baseline. Two summation families, each fixed per configuration:
//  * one-chain (float polyphase tables of <= 16 phases, and the float
//    half-band stages): one 8-lane accumulator per output, eight outputs in
//    flight sharing tap or input loads (Dot8H, Dot8X, Dot4G below);
//  * four accumulators per output (DotShared; double precision, tables of
//    many phases, interpolated tables).
// Either way every output is reduced in a fixed order, so results are
// deterministic on this path (they differ from the baseline path in the last
// bits, because FMA rounds once per multiply-add).
#include <cstddef>

#include "voicecore/resample/resample_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

// The shared output loop below is compiled for AVX2 too, so the dot products
// inline into it; SelectAvx2Kernel is only called after the CPU check.
#pragma GCC push_options
#pragma GCC target("avx2,fma")

#define VC_AVX2 __attribute__((target("avx2,fma")))

namespace voicecore::resample {
namespace {

VC_AVX2 inline float HorizontalSum(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  __m128 v = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_shuffle_ps(v, v, 0x55));
  return _mm_cvtss_f32(v);
}

VC_AVX2 inline double HorizontalSum(__m256d a0, __m256d a1, __m256d a2, __m256d a3) {
  const __m256d s = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
  __m128d v = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  v = _mm_add_sd(v, _mm_unpackhi_pd(v, v));
  return _mm_cvtsd_f64(v);
}

template <typename T>
struct Avx2;

template <>
struct Avx2<float> {
  using V = __m256;
  static constexpr std::size_t kLanes = 8;
  VC_AVX2 static V Zero() { return _mm256_setzero_ps(); }
  VC_AVX2 static V Load(const float* p) { return _mm256_loadu_ps(p); }
  VC_AVX2 static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
};

template <>
struct Avx2<double> {
  using V = __m256d;
  static constexpr std::size_t kLanes = 4;
  VC_AVX2 static V Zero() { return _mm256_setzero_pd(); }
  VC_AVX2 static V Load(const double* p) { return _mm256_loadu_pd(p); }
  VC_AVX2 static V Fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
};

// y[k] = dot(shared, other[k]), k < K. Every output keeps four accumulators
// (one per vector of a 4-vector block) and is reduced by HorizontalSum, so an
// output's bits do not depend on K or on which operand is the shared one (a
// product is commutative even when fused): a stereo channel matches the same
// signal sent mono, and a grouped output matches a lone one.
template <typename T, std::size_t K>
VC_AVX2 inline void DotShared(const T* shared, const T* const* other, std::size_t n, T* y) {
  using S = Avx2<T>;
  constexpr std::size_t kL = S::kLanes;
  typename S::V acc[K][4];
#pragma GCC unroll 4
  for (std::size_t k = 0; k < K; ++k) {
#pragma GCC unroll 4
    for (std::size_t j = 0; j < 4; ++j) acc[k][j] = S::Zero();
  }
  for (std::size_t i = 0; i < n; i += 4 * kL) {
#pragma GCC unroll 4
    for (std::size_t j = 0; j < 4; ++j) {
      const typename S::V t = S::Load(shared + i + j * kL);
#pragma GCC unroll 4
      for (std::size_t k = 0; k < K; ++k) {
        acc[k][j] = S::Fma(t, S::Load(other[k] + i + j * kL), acc[k][j]);
      }
    }
  }
#pragma GCC unroll 4
  for (std::size_t k = 0; k < K; ++k) y[k] = HorizontalSum(acc[k][0], acc[k][1], acc[k][2], acc[k][3]);
}

// The four shapes the shared output loop (resample_kernel_impl.h) asks for.
template <typename T>
struct Dot {
  VC_AVX2 T operator()(const T* h, const T* x, std::size_t n) const {
    T y;
    DotShared<T, 1>(h, &x, n, &y);
    return y;
  }
};

// Two channels share every tap load.
template <typename T>
struct Dot2 {
  VC_AVX2 void operator()(const T* h, const T* x0, const T* x1, std::size_t n, T* y0,
                          T* y1) const {
    const T* x[2] = {x0, x1};
    T y[2];
    DotShared<T, 2>(h, x, n, y);
    *y0 = y[0];
    *y1 = y[1];
  }
};

// Three windows sharing one tap row (integer decimation).
template <typename T>
struct Dot3H {
  VC_AVX2 void operator()(const T* h, const T* x0, const T* x1, const T* x2, std::size_t n,
                          T* y) const {
    const T* x[3] = {x0, x1, x2};
    DotShared<T, 3>(h, x, n, y);
  }
};

// Three tap rows sharing one window (upsampling).
template <typename T>
struct Dot3X {
  VC_AVX2 void operator()(const T* h0, const T* h1, const T* h2, const T* x, std::size_t n,
                          T* y) const {
    const T* h[3] = {h0, h1, h2};
    DotShared<T, 3>(x, h, n, y);
  }
};

// ---- One-chain family (the float polyphase stage on this path) ----
// Each output keeps a single 8-lane accumulator that walks the taps in order,
// and its lanes are reduced by one fixed tree, ((0+1)+(2+3))+((4+5)+(6+7)).
// Eight outputs in flight give eight independent FMA chains, enough to cover
// the FMA latency, so outputs can share loads freely: Dot8H runs eight
// windows M apart through one tap row (1 + 1/8 loads per FMA instead of the
// 4/3 of three-way grouping), Dot4G four unrelated (row, window) pairs. Every
// output is summed identically whichever of the two computes it, so grouping
// (which depends on how much input is buffered) never changes a bit.

// Reduces eight accumulators to eight sums, each by the tree above.
VC_AVX2 inline __m256 Reduce8x8(__m256 a, __m256 b, __m256 c, __m256 d, __m256 e, __m256 f,
                                __m256 g, __m256 h) {
  const __m256 q0 = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  const __m256 q1 = _mm256_hadd_ps(_mm256_hadd_ps(e, f), _mm256_hadd_ps(g, h));
  return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
                       _mm256_permute2f128_ps(q0, q1, 0x31));
}

VC_AVX2 inline __m128 Reduce4x8(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 q = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1));
}

// y[k] = dot(h, x + k * m), k = 0..7, over n taps (a multiple of 8).
VC_AVX2 inline void Dot8H(const float* h, const float* x, std::size_t m, std::size_t n, float* y) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps();
  __m256 a3 = _mm256_setzero_ps(), a4 = _mm256_setzero_ps(), a5 = _mm256_setzero_ps();
  __m256 a6 = _mm256_setzero_ps(), a7 = _mm256_setzero_ps();
  const float* x0 = x;
  const float* x4 = x + 4 * m;
  for (std::size_t i = 0; i < n; i += 8) {
    const __m256 t = _mm256_load_ps(h + i);
    a0 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x0 + i), a0);
    a1 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x0 + m + i), a1);
    a2 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x0 + 2 * m + i), a2);
    a3 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x0 + 3 * m + i), a3);
    a4 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x4 + i), a4);
    a5 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x4 + m + i), a5);
    a6 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x4 + 2 * m + i), a6);
    a7 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x4 + 3 * m + i), a7);
  }
  _mm256_storeu_ps(y, Reduce8x8(a0, a1, a2, a3, a4, a5, a6, a7));
}

// Two tap rows through four windows s apart (rows that share a window, as in
// 1:2 upsampling): y = {a.x0, b.x0, a.x1, b.x1, ...}, 6 loads per 8 FMAs.
VC_AVX2 inline void Dot8X(const float* ha, const float* hb, const float* x, std::size_t s,
                          std::size_t n, float* y) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps();
  __m256 a3 = _mm256_setzero_ps(), a4 = _mm256_setzero_ps(), a5 = _mm256_setzero_ps();
  __m256 a6 = _mm256_setzero_ps(), a7 = _mm256_setzero_ps();
  for (std::size_t i = 0; i < n; i += 8) {
    const __m256 ta = _mm256_load_ps(ha + i);
    const __m256 tb = _mm256_load_ps(hb + i);
    __m256 v = _mm256_loadu_ps(x + i);
    a0 = _mm256_fmadd_ps(ta, v, a0);
    a1 = _mm256_fmadd_ps(tb, v, a1);
    v = _mm256_loadu_ps(x + s + i);
    a2 = _mm256_fmadd_ps(ta, v, a2);
    a3 = _mm256_fmadd_ps(tb, v, a3);
    v = _mm256_loadu_ps(x + 2 * s + i);
    a4 = _mm256_fmadd_ps(ta, v, a4);
    a5 = _mm256_fmadd_ps(tb, v, a5);
    v = _mm256_loadu_ps(x + 3 * s + i);
    a6 = _mm256_fmadd_ps(ta, v, a6);
    a7 = _mm256_fmadd_ps(tb, v, a7);
  }
  _mm256_storeu_ps(y, Reduce8x8(a0, a1, a2, a3, a4, a5, a6, a7));
}

// y[k] = dot(h[k], x[k]), k = 0..3.
VC_AVX2 inline void Dot4G(const float* const* h, const float* const* x, std::size_t n, float* y) {
  const float* h0 = h[0];
  const float* h1 = h[1];
  const float* h2 = h[2];
  const float* h3 = h[3];
  const float* x0 = x[0];
  const float* x1 = x[1];
  const float* x2 = x[2];
  const float* x3 = x[3];
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  for (std::size_t i = 0; i < n; i += 8) {
    a0 = _mm256_fmadd_ps(_mm256_load_ps(h0 + i), _mm256_loadu_ps(x0 + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_load_ps(h1 + i), _mm256_loadu_ps(x1 + i), a1);
    a2 = _mm256_fmadd_ps(_mm256_load_ps(h2 + i), _mm256_loadu_ps(x2 + i), a2);
    a3 = _mm256_fmadd_ps(_mm256_load_ps(h3 + i), _mm256_loadu_ps(x3 + i), a3);
  }
  _mm_storeu_ps(y, Reduce4x8(a0, a1, a2, a3));
}

template <typename T>
struct Kernels {
  using Dot = resample::Dot<T>;
  using Dot2 = resample::Dot2<T>;
  using Dot3H = resample::Dot3H<T>;
  using Dot3X = resample::Dot3X<T>;
};
using KernelsF32 = Kernels<float>;
using KernelsF64 = Kernels<double>;

}  // namespace
}  // namespace voicecore::resample

#include "voicecore/resample/resample_kernel_impl.h"

namespace voicecore::resample {
namespace {

// The float polyphase stage with the one-chain family, exact tables only (the
// interpolated mode keeps RunKernel). Channels run one after another from the
// same position, so a channel of a multichannel stream matches the same
// signal sent mono.
template <typename Out>
std::size_t RunKernelChains(KernelState& st, void* out_raw, std::size_t max_frames) {
  const PolyphaseFilter& filter = *st.filter;
  const std::size_t taps = filter.num_taps();
  // Taps beyond num_taps() are zero, so the loops stop at the next multiple of 8.
  const std::size_t n8 = (taps + 7) / 8 * 8;
  Out* out = static_cast<Out*>(out_raw);
  const auto channels = static_cast<std::size_t>(st.num_channels);
  const std::int64_t l = st.interpolation;
  const auto big_l = static_cast<std::size_t>(l);
  const auto big_m = static_cast<std::size_t>(st.step_whole * l + st.step_frac);
  std::size_t avail = 0;
  if (st.window + taps <= st.history_len) {
    const auto d = static_cast<std::int64_t>(st.history_len - taps - st.window);
    avail = static_cast<std::size_t>(((d + 1) * l - st.phase + static_cast<std::int64_t>(big_m) - 1) /
                                     static_cast<std::int64_t>(big_m));
  }
  if (avail > max_frames) avail = max_frames;
  std::size_t w = st.window;
  std::int64_t p = st.phase;
  for (std::size_t c = 0; c < channels; ++c) {
    const float* hist = static_cast<const float*>(st.history) + c * st.channel_stride;
    w = st.window;
    p = st.phase;
    auto advance = [&]() {
      w += static_cast<std::size_t>(st.step_whole);
      p += st.step_frac;
      if (p >= l) {
        p -= l;
        ++w;
      }
    };
    std::size_t n = 0;
    if (big_l == 2 && big_m == 1) {
      // 1:2 upsampling: outputs 2i and 2i + 1 (rows 0 and 1) share window i.
      if (p != 0 && n < avail) {
        alignas(16) float y1[4];
        const float* rows[4] = {filter.PhaseF32(1), filter.PhaseF32(1), filter.PhaseF32(1),
                                filter.PhaseF32(1)};
        const float* wins[4] = {hist + w, hist + w, hist + w, hist + w};
        Dot4G(rows, wins, n8, y1);
        out[c] = Store<Out>::Convert(y1[0]);
        ++n;
        advance();
      }
      while (avail - n >= 8) {
        alignas(32) float y[8];
        Dot8X(filter.PhaseF32(0), filter.PhaseF32(1), hist + w, 1, n8, y);
        for (std::size_t k = 0; k < 8; ++k) out[(n + k) * channels + c] = Store<Out>::Convert(y[k]);
        n += 8;
        w += 4;
      }
    }
    // Outputs j, j + L, ..., j + 7L share tap row p; their windows are M apart.
    while (avail - n >= 8 * big_l) {
      const std::size_t w_start = w;
      for (std::size_t j = 0; j < big_l; ++j) {
        alignas(32) float y[8];
        Dot8H(filter.PhaseF32(static_cast<std::size_t>(p)), hist + w, big_m, n8, y);
        for (std::size_t k = 0; k < 8; ++k) {
          out[(n + j + k * big_l) * channels + c] = Store<Out>::Convert(y[k]);
        }
        advance();
      }
      n += 8 * big_l;
      w = w_start + 8 * big_m;
    }
    while (n < avail) {
      // Up to four outputs; missing slots repeat the last real one (valid
      // memory, result dropped).
      const float* rows[4];
      const float* wins[4];
      const std::size_t k_real = std::min<std::size_t>(4, avail - n);
      for (std::size_t k = 0; k < 4; ++k) {
        if (k < k_real) {
          rows[k] = filter.PhaseF32(static_cast<std::size_t>(p));
          wins[k] = hist + w;
          advance();
        } else {
          rows[k] = rows[k_real - 1];
          wins[k] = wins[k_real - 1];
        }
      }
      alignas(16) float y[4];
      Dot4G(rows, wins, n8, y);
      for (std::size_t k = 0; k < k_real; ++k) {
        out[(n + k) * channels + c] = Store<Out>::Convert(y[k]);
      }
      n += k_real;
    }
  }
  st.window = w;
  st.phase = p;
  return avail;
}

// Half-band outputs with the one-chain family: the single tap row is shared by
// every output and output j + 1's window is output j's moved by one sample.
// Only the taps up to the next multiple of 8 are run (the row is zero-padded
// to 32 for the other family: 2Q = 34 taps would otherwise cost 64).
// One explicit fused multiply-add at both call sites: left to the compiler,
// `y + 0.5f * e` may be contracted at one site and not the other, and the
// grouping would then change bits.
VC_AVX2 inline float AddCentreTap(float y, const float* even, std::size_t j) {
  return even == nullptr ? y : std::fma(0.5f, even[j], y);
}

void RunHalfbandChains(const float* taps, std::size_t padded, const float* even, const float* odd,
                       std::size_t count, float* out) {
  std::size_t n8 = padded;
  while (n8 >= 8 && taps[n8 - 8] == 0.0f && taps[n8 - 7] == 0.0f && taps[n8 - 6] == 0.0f &&
         taps[n8 - 5] == 0.0f && taps[n8 - 4] == 0.0f && taps[n8 - 3] == 0.0f &&
         taps[n8 - 2] == 0.0f && taps[n8 - 1] == 0.0f) {
    n8 -= 8;
  }
  std::size_t j = 0;
  alignas(32) float y[8];
  for (; j + 8 <= count; j += 8) {
    Dot8H(taps, odd + j, 1, n8, y);
    for (std::size_t k = 0; k < 8; ++k) out[j + k] = AddCentreTap(y[k], even, j + k);
  }
  while (j < count) {
    const std::size_t k_real = std::min<std::size_t>(4, count - j);
    const float* rows[4] = {taps, taps, taps, taps};
    const float* wins[4];
    for (std::size_t k = 0; k < 4; ++k) wins[k] = odd + j + std::min(k, k_real - 1);
    Dot4G(rows, wins, n8, y);
    for (std::size_t k = 0; k < k_real; ++k) out[j + k] = AddCentreTap(y[k], even, j + k);
    j += k_real;
  }
}

// Tap rows larger than this many phases stay on RunKernel: with hundreds of
// distinct rows (44.1k -> 16k has 320) nothing shares a row within a 10 ms
// chunk, and four rows streamed at once measured slower than one.
constexpr std::int64_t kMaxChainPhases = 16;

template <typename Out>
std::size_t RunFloatStage(KernelState& st, void* out, std::size_t max_frames) {
  if (st.filter->interpolated() || st.interpolation > kMaxChainPhases) {
    return RunKernel<float, Out, Dot<float>, Dot2<float>, Dot3H<float>, Dot3X<float>>(st, out, max_frames);
  }
  return RunKernelChains<Out>(st, out, max_frames);
}

}  // namespace

HalfbandKernels SelectAvx2Halfband() {
  HalfbandKernels k = SelectHalfband<KernelsF32, KernelsF64>();
  k.f32 = &RunHalfbandChains;
  return k;
}

KernelFn SelectAvx2NativeKernel(bool double_precision) {
  if (!double_precision) return &RunFloatStage<float>;
  return SelectNativeKernel<KernelsF32, KernelsF64>(double_precision);
}

KernelFn SelectAvx2Kernel(bool double_precision, bool int16_out) {
  if (!double_precision) {
    return int16_out ? &RunFloatStage<std::int16_t> : &RunFloatStage<float>;
  }
  return SelectKernel<KernelsF32, KernelsF64>(double_precision, int16_out);
}
}  // namespace voicecore::resample

#pragma GCC pop_options

#else

namespace voicecore::resample {
KernelFn SelectAvx2Kernel(bool, bool) { return nullptr; }
HalfbandKernels SelectAvx2Halfband() { return {}; }
KernelFn SelectAvx2NativeKernel(bool) { return nullptr; }
}  // namespace voicecore::resample

#endif
