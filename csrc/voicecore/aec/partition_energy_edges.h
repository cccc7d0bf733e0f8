// The scalar edges of PartitionEnergies, shared by the baseline and the AVX2
// builds. Internal linkage on purpose: each build keeps its own copy compiled
// with its own flags, so the linker can never hand the baseline path a copy
// built for AVX2.
#pragma once

#include <cstddef>

namespace voicecore::aec {

// Bins from `k` on, for the `lanes` partitions starting at `p`, added to
// out[p..] one bin after another (the order every path sums in).
static inline void AddTailBins(const float* re, const float* im, std::size_t stride,
                               std::size_t p, std::size_t lanes, std::size_t k, std::size_t bins,
                               float* out) {
  for (; k < bins; ++k) {
    for (std::size_t j = 0; j < lanes; ++j) {
      const float r = re[(p + j) * stride + k];
      const float i = im[(p + j) * stride + k];
      out[p + j] += r * r + i * i;
    }
  }
}

// Partitions from `p` on, one at a time.
static inline void PartitionEnergiesFrom(const float* re, const float* im, std::size_t stride,
                                         std::size_t p, std::size_t partitions, std::size_t bins,
                                         float* out) {
  for (; p < partitions; ++p) {
    const float* r = re + p * stride;
    const float* i = im + p * stride;
    float e = 0.0f;
    for (std::size_t k = 0; k < bins; ++k) e += r[k] * r[k] + i[k] * i[k];
    out[p] = e;
  }
}

}  // namespace voicecore::aec
