#include "voicecore/aec/aec_kernels.h"
#include "voicecore/aec/partition_energy_edges.h"

#include "voicecore/common/cpu_features.h"
#include "voicecore/common/vec4.h"

namespace voicecore::aec {

namespace {
// Eight bins per chunk: the accumulators of a chunk stay in registers while
// the loop walks the partitions, instead of a load and store per partition.
constexpr std::size_t kChunk = 8;

void Filter(const FarSpan& x, const float* w_re, const float* w_im, std::size_t stride,
            float* out_re, float* out_im) {
  for (std::size_t c = 0; c < x.n; c += kChunk) {
    float ar[kChunk] = {}, ai[kChunk] = {};
    for (std::size_t l = 0; l < x.num_live; ++l) {
      const std::size_t p = x.live[l];
      const float* xr = x.re[p] + c;
      const float* xi = x.im[p] + c;
      const float* wr = w_re + p * stride + c;
      const float* wi = w_im + p * stride + c;
      for (std::size_t k = 0; k < kChunk; ++k) {
        ar[k] += xr[k] * wr[k] - xi[k] * wi[k];
        ai[k] += xr[k] * wi[k] + xi[k] * wr[k];
      }
    }
    for (std::size_t k = 0; k < kChunk; ++k) {
      out_re[c + k] = ar[k];
      out_im[c + k] = ai[k];
    }
  }
}

void FilterPair(const FarSpan& x, const float* wa_re, const float* wa_im, const float* wb_re,
                const float* wb_im, std::size_t stride, float* a_re, float* a_im, float* b_re,
                float* b_im) {
  for (std::size_t c = 0; c < x.n; c += kChunk) {
    float ar[kChunk] = {}, ai[kChunk] = {}, br[kChunk] = {}, bi[kChunk] = {};
    for (std::size_t l = 0; l < x.num_live; ++l) {
      const std::size_t p = x.live[l];
      const float* xr = x.re[p] + c;
      const float* xi = x.im[p] + c;
      const float* war = wa_re + p * stride + c;
      const float* wai = wa_im + p * stride + c;
      const float* wbr = wb_re + p * stride + c;
      const float* wbi = wb_im + p * stride + c;
      for (std::size_t k = 0; k < kChunk; ++k) {
        ar[k] += xr[k] * war[k] - xi[k] * wai[k];
        ai[k] += xr[k] * wai[k] + xi[k] * war[k];
        br[k] += xr[k] * wbr[k] - xi[k] * wbi[k];
        bi[k] += xr[k] * wbi[k] + xi[k] * wbr[k];
      }
    }
    for (std::size_t k = 0; k < kChunk; ++k) {
      a_re[c + k] = ar[k];
      a_im[c + k] = ai[k];
      b_re[c + k] = br[k];
      b_im[c + k] = bi[k];
    }
  }
}

void Adapt(const FarSpan& x, float* w_re, float* w_im, std::size_t stride, const float* g_re,
           const float* g_im, const float* weights) {
  for (std::size_t l = 0; l < x.num_live; ++l) {
    const std::size_t p = x.live[l];
    const float* xr = x.re[p];
    const float* xi = x.im[p];
    float* wr = w_re + p * stride;
    float* wi = w_im + p * stride;
    const float a = weights[p];
    for (std::size_t k = 0; k < x.n; ++k) {
      wr[k] += a * (xr[k] * g_re[k] + xi[k] * g_im[k]);
      wi[k] += a * (xr[k] * g_im[k] - xi[k] * g_re[k]);
    }
  }
}

void PowerSums(const FarSpan& x, const float* a, const float* q, const float* w2, std::size_t stride,
               float* out_a, float* out_q, float* out_w) {
  for (std::size_t c = 0; c < x.n; c += kChunk) {
    float sa[kChunk] = {}, sq[kChunk] = {}, sw[kChunk] = {};
    for (std::size_t l = 0; l < x.num_live; ++l) {
      const std::size_t p = x.live[l];
      const float* xp = x.power[p] + c;
      const float* wp = w2 + p * stride + c;
      for (std::size_t k = 0; k < kChunk; ++k) {
        sa[k] += a[p] * xp[k];
        sq[k] += q[p] * xp[k];
        sw[k] += wp[k] * xp[k];
      }
    }
    for (std::size_t k = 0; k < kChunk; ++k) {
      out_a[c + k] = sa[k];
      out_q[c + k] = sq[k];
      out_w[c + k] = sw[k];
    }
  }
}

// Four partitions per lane group: each bin's squares are formed for four
// partitions (rows), the 4x4 tile is transposed so a lane is a partition, and
// the lanes accumulate bin after bin, the scalar loop's order.
void PartitionEnergies(const float* re, const float* im, std::size_t stride,
                       std::size_t partitions, std::size_t bins, float* out) {
  std::size_t p = 0;
  for (; p + 4 <= partitions; p += 4) {
    Float4 e = Splat4(0.0f);
    std::size_t k = 0;
    for (; k + 4 <= bins; k += 4) {
      Float4 sq[4];
      for (std::size_t j = 0; j < 4; ++j) {
        const Float4 r = Load4(re + (p + j) * stride + k);
        const Float4 i = Load4(im + (p + j) * stride + k);
        sq[j] = r * r + i * i;
      }
      Transpose4(sq[0], sq[1], sq[2], sq[3]);
      e = e + sq[0];
      e = e + sq[1];
      e = e + sq[2];
      e = e + sq[3];
    }
    Store4(out + p, e);
    AddTailBins(re, im, stride, p, 4, k, bins, out);
  }
  PartitionEnergiesFrom(re, im, stride, p, partitions, bins, out);
}

const AecKernels kBaseline{Filter, FilterPair, Adapt, PowerSums, PartitionEnergies};
}  // namespace

const AecKernels& BaselineAecKernels() { return kBaseline; }

const AecKernels& SelectAecKernels() {
  const CpuFeatures& f = GetCpuFeatures();
  const AecKernels* avx2 = Avx2AecKernels();
  if (avx2 != nullptr && f.avx2 && f.fma) return *avx2;
  return kBaseline;
}

}  // namespace voicecore::aec
