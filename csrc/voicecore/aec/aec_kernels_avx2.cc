// AVX2+FMA build of the kernels in aec_kernels.h, compiled for that ISA through
// target attributes (the rest of the library stays baseline) and only called
// after the CPU check in SelectAecKernels.
#include "voicecore/aec/aec_kernels.h"
#include "voicecore/aec/partition_energy_edges.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define VC_AVX2 __attribute__((target("avx2,fma")))

namespace voicecore::aec {
namespace {

VC_AVX2 void Filter(const FarSpan& x, const float* w_re, const float* w_im, std::size_t stride,
                    float* out_re, float* out_im) {
  for (std::size_t c = 0; c < x.n; c += 8) {
    __m256 ar = _mm256_setzero_ps(), ai = _mm256_setzero_ps();
    for (std::size_t l = 0; l < x.num_live; ++l) {
      const std::size_t p = x.live[l];
      const std::size_t o = p * stride + c;
      const __m256 xr = _mm256_loadu_ps(x.re[p] + c);
      const __m256 xi = _mm256_loadu_ps(x.im[p] + c);
      const __m256 wr = _mm256_loadu_ps(w_re + o), wi = _mm256_loadu_ps(w_im + o);
      ar = _mm256_fnmadd_ps(xi, wi, _mm256_fmadd_ps(xr, wr, ar));
      ai = _mm256_fmadd_ps(xi, wr, _mm256_fmadd_ps(xr, wi, ai));
    }
    _mm256_storeu_ps(out_re + c, ar);
    _mm256_storeu_ps(out_im + c, ai);
  }
}

VC_AVX2 void FilterPair(const FarSpan& x, const float* wa_re, const float* wa_im,
                        const float* wb_re, const float* wb_im, std::size_t stride, float* a_re,
                        float* a_im, float* b_re, float* b_im) {
  for (std::size_t c = 0; c < x.n; c += 8) {
    __m256 ar = _mm256_setzero_ps(), ai = _mm256_setzero_ps();
    __m256 br = _mm256_setzero_ps(), bi = _mm256_setzero_ps();
    for (std::size_t l = 0; l < x.num_live; ++l) {
      const std::size_t p = x.live[l];
      const std::size_t o = p * stride + c;
      const __m256 xr = _mm256_loadu_ps(x.re[p] + c);
      const __m256 xi = _mm256_loadu_ps(x.im[p] + c);
      const __m256 a_r = _mm256_loadu_ps(wa_re + o), a_i = _mm256_loadu_ps(wa_im + o);
      const __m256 b_r = _mm256_loadu_ps(wb_re + o), b_i = _mm256_loadu_ps(wb_im + o);
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
  for (std::size_t l = 0; l < x.num_live; ++l) {
    const std::size_t p = x.live[l];
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
    for (std::size_t l = 0; l < x.num_live; ++l) {
      const std::size_t p = x.live[l];
      const __m256 xp = _mm256_loadu_ps(x.power[p] + c);
      sa = _mm256_fmadd_ps(_mm256_set1_ps(a[p]), xp, sa);
      sq = _mm256_fmadd_ps(_mm256_set1_ps(q[p]), xp, sq);
      sw = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + p * stride + c), xp, sw);
    }
    _mm256_storeu_ps(out_a + c, sa);
    _mm256_storeu_ps(out_q + c, sq);
    _mm256_storeu_ps(out_w + c, sw);
  }
}

// Eight partitions at a time: each bin's squares are formed for eight
// partitions (rows of 8 bins), the 8x8 tile is transposed so a lane is a
// partition, and the lanes accumulate bin after bin, the scalar loop's order.
// The squares are a multiply and an add, not an FMA, as in the baseline path.
VC_AVX2 void PartitionEnergies(const float* re, const float* im, std::size_t stride,
                               std::size_t partitions, std::size_t bins, float* out) {
  std::size_t p = 0;
  for (; p + 8 <= partitions; p += 8) {
    __m256 e = _mm256_setzero_ps();
    std::size_t k = 0;
    for (; k + 8 <= bins; k += 8) {
      __m256 sq[8];
      for (std::size_t j = 0; j < 8; ++j) {
        const __m256 r = _mm256_loadu_ps(re + (p + j) * stride + k);
        const __m256 i = _mm256_loadu_ps(im + (p + j) * stride + k);
        sq[j] = _mm256_add_ps(_mm256_mul_ps(r, r), _mm256_mul_ps(i, i));
      }
      __m256 t[8];
      for (std::size_t j = 0; j < 8; j += 2) {
        t[j] = _mm256_unpacklo_ps(sq[j], sq[j + 1]);
        t[j + 1] = _mm256_unpackhi_ps(sq[j], sq[j + 1]);
      }
      // u[0..3]: bins 0-3 of partitions 0-3 (low lanes) and bins 4-7 (high);
      // u[4..7]: the same for partitions 4-7.
      __m256 u[8];
      for (std::size_t h = 0; h < 8; h += 4) {
        u[h] = _mm256_shuffle_ps(t[h], t[h + 2], 0x44);
        u[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], 0xEE);
        u[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0x44);
        u[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0xEE);
      }
      for (std::size_t j = 0; j < 4; ++j) e = _mm256_add_ps(e, _mm256_permute2f128_ps(u[j], u[j + 4], 0x20));
      for (std::size_t j = 0; j < 4; ++j) e = _mm256_add_ps(e, _mm256_permute2f128_ps(u[j], u[j + 4], 0x31));
    }
    _mm256_storeu_ps(out + p, e);
    AddTailBins(re, im, stride, p, 8, k, bins, out);
  }
  PartitionEnergiesFrom(re, im, stride, p, partitions, bins, out);
}

const AecKernels kAvx2{Filter, FilterPair, Adapt, PowerSums, PartitionEnergies};
}  // namespace

const AecKernels* Avx2AecKernels() { return &kAvx2; }

}  // namespace voicecore::aec

#else

namespace voicecore::aec {
const AecKernels* Avx2AecKernels() { return nullptr; }
}  // namespace voicecore::aec

#endif
