// Per-bin loops of the adaptive filter that dominate the canceller's cost,
// with a baseline build and an AVX2+FMA build chosen at run time
// (GetCpuFeatures). Spectra are split real/imaginary arrays whose length `n`
// is a multiple of 8 (padded with zeros, see PaddedBins), so neither path has
// a scalar tail. The far spectra of the filter span are passed as one pointer
// per partition because they live in a ring buffer. The kernels visit only
// the partitions listed in `live`: a partition whose far spectrum is all zero
// (a silent far block, common while the agent pauses) only adds zeros, so
// skipping it leaves every sum and coefficient as it was (the sums start at
// +0 and cannot reach -0; at most a zero coefficient keeps a sign that no sum
// can see).
//
// The AVX2 path uses fused multiply-adds, so its results differ from the
// baseline path in the last bits; both are deterministic.
//
// Thread contract: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace voicecore::aec {

struct FarSpan {
  const float* const* re;     // per partition p: far spectrum feeding W_p
  const float* const* im;
  const float* const* power;  // |X|^2, same layout
  std::size_t partitions;
  std::size_t n;              // padded bins
  const std::uint32_t* live;  // partitions with a nonzero far spectrum, ascending
  std::size_t num_live;
};

struct AecKernels {
  // out = sum_p W_p X_p (complex), for one filter laid out as in filter_pair.
  void (*filter)(const FarSpan& x, const float* w_re, const float* w_im, std::size_t stride,
                 float* out_re, float* out_im);
  // out_a = sum_p Wa_p X_p, out_b = sum_p Wb_p X_p (complex). W arrays hold
  // the partitions back to back, `stride` floats apart.
  void (*filter_pair)(const FarSpan& x, const float* wa_re, const float* wa_im,
                      const float* wb_re, const float* wb_im, std::size_t stride, float* a_re,
                      float* a_im, float* b_re, float* b_im);
  // W_p += weight_p * conj(X_p) * G.
  void (*adapt)(const FarSpan& x, float* w_re, float* w_im, std::size_t stride, const float* g_re,
                const float* g_im, const float* weights);
  // out_a = sum_p a_p |X_p|^2, out_q = sum_p q_p |X_p|^2,
  // out_w = sum_p |W_p|^2 |X_p|^2 (w2 laid out like the filter).
  void (*power_sums)(const FarSpan& x, const float* a, const float* q, const float* w2,
                     std::size_t stride, float* out_a, float* out_q, float* out_w);
  // out[p] = sum over k < bins of re_p[k]^2 + im_p[k]^2, summed in bin order
  // (so every path gives the same bits): partitions `stride` floats apart.
  void (*partition_energies)(const float* re, const float* im, std::size_t stride,
                             std::size_t partitions, std::size_t bins, float* out);
};

const AecKernels& BaselineAecKernels();
// nullptr when this build has no AVX2 path (non-x86).
const AecKernels* Avx2AecKernels();
// The fastest path this CPU supports.
const AecKernels& SelectAecKernels();

}  // namespace voicecore::aec
