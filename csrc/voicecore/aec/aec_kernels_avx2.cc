// AVX2+FMA build of the kernels in aec_kernels.h, compiled for that ISA through
// target attributes (the rest of the library stays baseline) and only called
// after the CPU check in SelectAecKernels.
#include "voicecore/aec/aec_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define VC_AVX2 __attribute__((target("avx2,fma")))

namespace voicecore::aec {
namespace {

VC_AVX2 void FilterPair(const FarSpan& x, const float* wa_re, const float* wa_im,
                        const float* wb_re, const float* wb_im, std::size_t stride, float* a_re,
                        float* a_im, float* b_re, float* b_im) {
  for (std::size_t c = 0; c < x.n; c += 8) {
    __m256 ar = _mm256_setzero_ps(), ai = _mm256_setzero_ps();
    __m256 br = _mm256_setzero_ps(), bi = _mm256_setzero_ps();
    const float* war = wa_re + c;
    const float* wai = wa_im + c;
    const float* wbr = wb_re + c;
    const float* wbi = wb_im + c;
    for (std::size_t p = 0; p < x.partitions; ++p, war += stride, wai += stride, wbr += stride,
                     wbi += stride) {
      const __m256 xr = _mm256_loadu_ps(x.re[p] + c);
      const __m256 xi = _mm256_loadu_ps(x.im[p] + c);
      const __m256 a_r = _mm256_loadu_ps(war), a_i = _mm256_loadu_ps(wai);
      const __m256 b_r = _mm256_loadu_ps(wbr), b_i = _mm256_loadu_ps(wbi);
      ar = _mm256_fnmadd_ps(xi, a_i, _mm256_fmadd_ps(xr, a_r, ar));
      ai = _mm256_fmadd_ps(xi, a_r, _mm256_fmadd_ps(xr, a_i, ai));
      br = _mm256_fnmadd_ps(xi, b_i, _mm256_fmadd_ps(xr, b_r, br));
      bi = _mm256_fmadd_ps(xi, b_r, _mm256_fmadd_ps(xr, b_i, bi));
    }
    _mm256_storeu_ps(a_re + c, ar);
    _mm256_storeu_ps(a_im + c, ai);
    _mm256_storeu_ps(b_re + c, br);
    _mm256_storeu_ps(b_im + c, bi);
  }
}

VC_AVX2 void Adapt(const FarSpan& x, float* w_re, float* w_im, std::size_t stride,
                   const float* g_re, const float* g_im, const float* weights) {
  for (std::size_t p = 0; p < x.partitions; ++p) {
    const float* xr = x.re[p];
    const float* xi = x.im[p];
    float* wr = w_re + p * stride;
    float* wi = w_im + p * stride;
    const __m256 a = _mm256_set1_ps(weights[p]);
    for (std::size_t k = 0; k < x.n; k += 8) {
      const __m256 r = _mm256_loadu_ps(xr + k), i = _mm256_loadu_ps(xi + k);
      const __m256 gr = _mm256_loadu_ps(g_re + k), gi = _mm256_loadu_ps(g_im + k);
      const __m256 ur = _mm256_fmadd_ps(i, gi, _mm256_mul_ps(r, gr));
      const __m256 ui = _mm256_fnmadd_ps(i, gr, _mm256_mul_ps(r, gi));
      _mm256_storeu_ps(wr + k, _mm256_fmadd_ps(a, ur, _mm256_loadu_ps(wr + k)));
      _mm256_storeu_ps(wi + k, _mm256_fmadd_ps(a, ui, _mm256_loadu_ps(wi + k)));
    }
  }
}

VC_AVX2 void PowerSums(const FarSpan& x, const float* a, const float* q, const float* w2,
                       std::size_t stride, float* out_a, float* out_q, float* out_w) {
  for (std::size_t c = 0; c < x.n; c += 8) {
    __m256 sa = _mm256_setzero_ps(), sq = _mm256_setzero_ps(), sw = _mm256_setzero_ps();
    const float* wp = w2 + c;
    for (std::size_t p = 0; p < x.partitions; ++p, wp += stride) {
      const __m256 xp = _mm256_loadu_ps(x.power[p] + c);
      sa = _mm256_fmadd_ps(_mm256_set1_ps(a[p]), xp, sa);
      sq = _mm256_fmadd_ps(_mm256_set1_ps(q[p]), xp, sq);
      sw = _mm256_fmadd_ps(_mm256_loadu_ps(wp), xp, sw);
    }
    _mm256_storeu_ps(out_a + c, sa);
    _mm256_storeu_ps(out_q + c, sq);
    _mm256_storeu_ps(out_w + c, sw);
  }
}

const AecKernels kAvx2{FilterPair, Adapt, PowerSums};
}  // namespace

const AecKernels* Avx2AecKernels() { return &kAvx2; }

}  // namespace voicecore::aec

#else

namespace voicecore::aec {
const AecKernels* Avx2AecKernels() { return nullptr; }
}  // namespace voicecore::aec

#endif
