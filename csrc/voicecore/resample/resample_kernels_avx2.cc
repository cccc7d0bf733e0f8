// AVX2+FMA kernels, selected at run time when the CPU has both. Functions are
// compiled for that ISA through target attributes, so the rest of the library
// stays baseline. Each dot product keeps four 8-wide (float) or 4-wide
// (double) fused multiply-add accumulators and reduces them in a fixed order,
// so results are deterministic on this path (they differ from the baseline
// path in the last bits, because FMA rounds once per multiply-add).
#include <cstddef>

#include "voicecore/resample/resample_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

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

struct DotF32 {
  VC_AVX2 float operator()(const float* h, const float* x, std::size_t n) const {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (std::size_t i = 0; i < n; i += 32) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(h + i), _mm256_loadu_ps(x + i), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(h + i + 8), _mm256_loadu_ps(x + i + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(h + i + 16), _mm256_loadu_ps(x + i + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(h + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    return HorizontalSum(a0, a1, a2, a3);
  }
};

// Two channels share every tap load; each channel's sums are formed exactly as
// DotF32 forms them, so a stereo channel matches the same signal sent mono.
struct Dot2F32 {
  VC_AVX2 void operator()(const float* h, const float* x0, const float* x1, std::size_t n,
                          float* y0, float* y1) const {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    __m256 b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
    for (std::size_t i = 0; i < n; i += 32) {
      const __m256 h0 = _mm256_loadu_ps(h + i), h1 = _mm256_loadu_ps(h + i + 8);
      const __m256 h2 = _mm256_loadu_ps(h + i + 16), h3 = _mm256_loadu_ps(h + i + 24);
      a0 = _mm256_fmadd_ps(h0, _mm256_loadu_ps(x0 + i), a0);
      b0 = _mm256_fmadd_ps(h0, _mm256_loadu_ps(x1 + i), b0);
      a1 = _mm256_fmadd_ps(h1, _mm256_loadu_ps(x0 + i + 8), a1);
      b1 = _mm256_fmadd_ps(h1, _mm256_loadu_ps(x1 + i + 8), b1);
      a2 = _mm256_fmadd_ps(h2, _mm256_loadu_ps(x0 + i + 16), a2);
      b2 = _mm256_fmadd_ps(h2, _mm256_loadu_ps(x1 + i + 16), b2);
      a3 = _mm256_fmadd_ps(h3, _mm256_loadu_ps(x0 + i + 24), a3);
      b3 = _mm256_fmadd_ps(h3, _mm256_loadu_ps(x1 + i + 24), b3);
    }
    *y0 = HorizontalSum(a0, a1, a2, a3);
    *y1 = HorizontalSum(b0, b1, b2, b3);
  }
};

struct DotF64 {
  VC_AVX2 double operator()(const double* h, const double* x, std::size_t n) const {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    __m256d a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
    for (std::size_t i = 0; i < n; i += 16) {
      a0 = _mm256_fmadd_pd(_mm256_loadu_pd(h + i), _mm256_loadu_pd(x + i), a0);
      a1 = _mm256_fmadd_pd(_mm256_loadu_pd(h + i + 4), _mm256_loadu_pd(x + i + 4), a1);
      a2 = _mm256_fmadd_pd(_mm256_loadu_pd(h + i + 8), _mm256_loadu_pd(x + i + 8), a2);
      a3 = _mm256_fmadd_pd(_mm256_loadu_pd(h + i + 12), _mm256_loadu_pd(x + i + 12), a3);
    }
    return HorizontalSum(a0, a1, a2, a3);
  }
};

struct Dot2F64 {
  VC_AVX2 void operator()(const double* h, const double* x0, const double* x1, std::size_t n,
                          double* y0, double* y1) const {
    const DotF64 dot;
    *y0 = dot(h, x0, n);
    *y1 = dot(h, x1, n);
  }
};

// Three windows sharing one tap row (integer decimation): 12 accumulators,
// each output's four partial sums formed exactly as in DotF32.
struct Dot3HF32 {
  VC_AVX2 void operator()(const float* h, const float* x0, const float* x1, const float* x2,
                          std::size_t n, float* y) const {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    __m256 b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps();
    __m256 c2 = _mm256_setzero_ps(), c3 = _mm256_setzero_ps();
    for (std::size_t i = 0; i < n; i += 32) {
      __m256 t = _mm256_loadu_ps(h + i);
      a0 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x0 + i), a0);
      b0 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x1 + i), b0);
      c0 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x2 + i), c0);
      t = _mm256_loadu_ps(h + i + 8);
      a1 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x0 + i + 8), a1);
      b1 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x1 + i + 8), b1);
      c1 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x2 + i + 8), c1);
      t = _mm256_loadu_ps(h + i + 16);
      a2 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x0 + i + 16), a2);
      b2 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x1 + i + 16), b2);
      c2 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x2 + i + 16), c2);
      t = _mm256_loadu_ps(h + i + 24);
      a3 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x0 + i + 24), a3);
      b3 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x1 + i + 24), b3);
      c3 = _mm256_fmadd_ps(t, _mm256_loadu_ps(x2 + i + 24), c3);
    }
    y[0] = HorizontalSum(a0, a1, a2, a3);
    y[1] = HorizontalSum(b0, b1, b2, b3);
    y[2] = HorizontalSum(c0, c1, c2, c3);
  }
};

// Three tap rows sharing one window (upsampling).
struct Dot3XF32 {
  VC_AVX2 void operator()(const float* h0, const float* h1, const float* h2, const float* x,
                          std::size_t n, float* y) const {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    __m256 b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps();
    __m256 c2 = _mm256_setzero_ps(), c3 = _mm256_setzero_ps();
    for (std::size_t i = 0; i < n; i += 32) {
      __m256 t = _mm256_loadu_ps(x + i);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(h0 + i), t, a0);
      b0 = _mm256_fmadd_ps(_mm256_loadu_ps(h1 + i), t, b0);
      c0 = _mm256_fmadd_ps(_mm256_loadu_ps(h2 + i), t, c0);
      t = _mm256_loadu_ps(x + i + 8);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(h0 + i + 8), t, a1);
      b1 = _mm256_fmadd_ps(_mm256_loadu_ps(h1 + i + 8), t, b1);
      c1 = _mm256_fmadd_ps(_mm256_loadu_ps(h2 + i + 8), t, c1);
      t = _mm256_loadu_ps(x + i + 16);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(h0 + i + 16), t, a2);
      b2 = _mm256_fmadd_ps(_mm256_loadu_ps(h1 + i + 16), t, b2);
      c2 = _mm256_fmadd_ps(_mm256_loadu_ps(h2 + i + 16), t, c2);
      t = _mm256_loadu_ps(x + i + 24);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(h0 + i + 24), t, a3);
      b3 = _mm256_fmadd_ps(_mm256_loadu_ps(h1 + i + 24), t, b3);
      c3 = _mm256_fmadd_ps(_mm256_loadu_ps(h2 + i + 24), t, c3);
    }
    y[0] = HorizontalSum(a0, a1, a2, a3);
    y[1] = HorizontalSum(b0, b1, b2, b3);
    y[2] = HorizontalSum(c0, c1, c2, c3);
  }
};

struct Dot3HF64 {
  VC_AVX2 void operator()(const double* h, const double* x0, const double* x1, const double* x2,
                          std::size_t n, double* y) const {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    __m256d a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
    __m256d b0 = _mm256_setzero_pd(), b1 = _mm256_setzero_pd();
    __m256d b2 = _mm256_setzero_pd(), b3 = _mm256_setzero_pd();
    __m256d c0 = _mm256_setzero_pd(), c1 = _mm256_setzero_pd();
    __m256d c2 = _mm256_setzero_pd(), c3 = _mm256_setzero_pd();
    for (std::size_t i = 0; i < n; i += 16) {
      __m256d t = _mm256_loadu_pd(h + i);
      a0 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x0 + i), a0);
      b0 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x1 + i), b0);
      c0 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x2 + i), c0);
      t = _mm256_loadu_pd(h + i + 4);
      a1 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x0 + i + 4), a1);
      b1 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x1 + i + 4), b1);
      c1 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x2 + i + 4), c1);
      t = _mm256_loadu_pd(h + i + 8);
      a2 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x0 + i + 8), a2);
      b2 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x1 + i + 8), b2);
      c2 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x2 + i + 8), c2);
      t = _mm256_loadu_pd(h + i + 12);
      a3 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x0 + i + 12), a3);
      b3 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x1 + i + 12), b3);
      c3 = _mm256_fmadd_pd(t, _mm256_loadu_pd(x2 + i + 12), c3);
    }
    y[0] = HorizontalSum(a0, a1, a2, a3);
    y[1] = HorizontalSum(b0, b1, b2, b3);
    y[2] = HorizontalSum(c0, c1, c2, c3);
  }
};

struct Dot3XF64 {
  VC_AVX2 void operator()(const double* h0, const double* h1, const double* h2, const double* x,
                          std::size_t n, double* y) const {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    __m256d a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
    __m256d b0 = _mm256_setzero_pd(), b1 = _mm256_setzero_pd();
    __m256d b2 = _mm256_setzero_pd(), b3 = _mm256_setzero_pd();
    __m256d c0 = _mm256_setzero_pd(), c1 = _mm256_setzero_pd();
    __m256d c2 = _mm256_setzero_pd(), c3 = _mm256_setzero_pd();
    for (std::size_t i = 0; i < n; i += 16) {
      __m256d t = _mm256_loadu_pd(x + i);
      a0 = _mm256_fmadd_pd(_mm256_loadu_pd(h0 + i), t, a0);
      b0 = _mm256_fmadd_pd(_mm256_loadu_pd(h1 + i), t, b0);
      c0 = _mm256_fmadd_pd(_mm256_loadu_pd(h2 + i), t, c0);
      t = _mm256_loadu_pd(x + i + 4);
      a1 = _mm256_fmadd_pd(_mm256_loadu_pd(h0 + i + 4), t, a1);
      b1 = _mm256_fmadd_pd(_mm256_loadu_pd(h1 + i + 4), t, b1);
      c1 = _mm256_fmadd_pd(_mm256_loadu_pd(h2 + i + 4), t, c1);
      t = _mm256_loadu_pd(x + i + 8);
      a2 = _mm256_fmadd_pd(_mm256_loadu_pd(h0 + i + 8), t, a2);
      b2 = _mm256_fmadd_pd(_mm256_loadu_pd(h1 + i + 8), t, b2);
      c2 = _mm256_fmadd_pd(_mm256_loadu_pd(h2 + i + 8), t, c2);
      t = _mm256_loadu_pd(x + i + 12);
      a3 = _mm256_fmadd_pd(_mm256_loadu_pd(h0 + i + 12), t, a3);
      b3 = _mm256_fmadd_pd(_mm256_loadu_pd(h1 + i + 12), t, b3);
      c3 = _mm256_fmadd_pd(_mm256_loadu_pd(h2 + i + 12), t, c3);
    }
    y[0] = HorizontalSum(a0, a1, a2, a3);
    y[1] = HorizontalSum(b0, b1, b2, b3);
    y[2] = HorizontalSum(c0, c1, c2, c3);
  }
};

struct KernelsF32 {
  using Dot = DotF32;
  using Dot2 = Dot2F32;
  using Dot3H = Dot3HF32;
  using Dot3X = Dot3XF32;
};

struct KernelsF64 {
  using Dot = DotF64;
  using Dot2 = Dot2F64;
  using Dot3H = Dot3HF64;
  using Dot3X = Dot3XF64;
};

}  // namespace
}  // namespace voicecore::resample

#include "voicecore/resample/resample_kernel_impl.h"

namespace voicecore::resample {

HalfbandKernels SelectAvx2Halfband() { return SelectHalfband<KernelsF32, KernelsF64>(); }

KernelFn SelectAvx2NativeKernel(bool double_precision) {
  return SelectNativeKernel<KernelsF32, KernelsF64>(double_precision);
}

KernelFn SelectAvx2Kernel(bool double_precision, bool int16_out) {
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
