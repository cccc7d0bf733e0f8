// Partitioned-block frequency-domain adaptive filter (PBFDAF / MDF): the echo
// path is modelled as `num_partitions` FIR pieces of one block each, applied
// by overlap-save in the frequency domain. Adaptation is NLMS with a per-bin
// normalisation by the far power over the whole filter span, so coloured
// speech converges at the same rate in every bin.
//
// The gradient constraint (zeroing the wrapped half of each partition's
// impulse response) costs two FFTs per partition, so it is applied to one
// partition per block in turn, as in MDF and AEC3; the unconstrained error in
// between is small and gets removed within num_partitions blocks.
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <complex>
#include <cstddef>
#include <vector>

#include "voicecore/aec/aec_kernels.h"
#include "voicecore/aec/far_spectrum_buffer.h"
#include "voicecore/common/real_fft.h"

namespace voicecore::aec {

class AdaptiveFilter {
 public:
  AdaptiveFilter(std::size_t block_size, std::size_t num_partitions);
  AdaptiveFilter(const AdaptiveFilter&) = delete;
  AdaptiveFilter& operator=(const AdaptiveFilter&) = delete;

  // Echo estimate spectrum: sum over p of W_p * X_p over a span of
  // num_partitions (out arrays: PaddedBins(num_bins) values each).
  void Filter(const FarSpan& far, float* out_re, float* out_im) const;
  // Both filters' echo estimate spectra in one pass over the far spectra
  // (out arrays: PaddedBins(num_bins) values each).
  static void FilterPair(const AecKernels& kernels, const FarSpan& far, const AdaptiveFilter& a,
                         const AdaptiveFilter& b, float* a_re, float* a_im, float* b_re, float* b_im);

  // Power-domain echo estimate: sum over p of |W_p|^2 |X(offset + p)|^2. It
  // ignores phase, so it stays close to the echo's power spectrum while the
  // filter's phase is still wrong (early, or disturbed by double talk).
  // Uses the coefficient powers cached by the last CopyFrom/Shift/Reset/
  // RefreshPower, which is exact for the foreground filter (it never adapts
  // itself) and saves recomputing them every block.
  void PowerEstimate(const FarSpectrumBuffer& far, std::size_t offset, float* out) const;
  void RefreshPower();

  // W_p += weight_p * conj(X(offset + p)) * gain, where gain (num_bins values)
  // is the already normalised and scaled error spectrum and weight_p the
  // partition's share of the step (see EchoCanceller: proportionate update).
  void Adapt(const FarSpectrumBuffer& far, std::size_t offset, const float* gain_re,
             const float* gain_im, const float* partition_weights);
  // The same over a precomputed span; gains padded to PaddedBins(num_bins).
  void Adapt(const AecKernels& kernels, const FarSpan& far, const float* gain_re,
             const float* gain_im, const float* partition_weights);

  // |W|^2 per partition (cached, see PowerEstimate), `stride()` floats apart.
  const float* coefficient_power() const { return power_.data(); }
  std::size_t stride() const { return stride_; }

  // Applies the gradient constraint to the next partition in turn. `fft` and
  // `scratch` (2 * block_size floats) are the caller's.
  void ConstrainNext(RealFft& fft, std::complex<float>* spectrum_scratch, float* time_scratch);

  // Moves the model by `blocks` partitions when the far read offset moves by
  // the same amount, so a pure delay jump keeps the learnt echo path: with a
  // larger offset partition p now sees the block partition p + blocks saw.
  void Shift(int blocks);

  // The whole impulse response (num_partitions * block_size taps): each
  // partition's first block, the half the gradient constraint keeps. `fft`
  // is the caller's (2 * block_size points).
  void ImpulseResponse(RealFft& fft, float* taps) const;
  // Sets every partition from a response laid out as ImpulseResponse gives it.
  void SetImpulseResponse(RealFft& fft, const float* taps);

  void CopyFrom(const AdaptiveFilter& other);
  // Multiplies every coefficient by `factor` (the reference was rescaled).
  void Scale(float factor);
  void Reset();

  // Energy of each partition's coefficients (num_partitions values), used to
  // locate the echo peak inside the filter.
  void PartitionEnergies(float* out) const;
  // Per-partition sqrt(coefficient energy) (num_partitions values).
  void PartitionNorms(float* out) const;

  std::size_t num_partitions() const { return num_partitions_; }
  std::size_t num_bins() const { return num_bins_; }

 private:
  float* re(std::size_t p) { return re_.data() + p * stride_; }
  float* im(std::size_t p) { return im_.data() + p * stride_; }
  const float* re(std::size_t p) const { return re_.data() + p * stride_; }
  const float* im(std::size_t p) const { return im_.data() + p * stride_; }

  const AecKernels& kernels_;  // for Filter and PartitionEnergies
  const std::size_t block_size_;
  const std::size_t num_bins_;
  const std::size_t stride_;
  const std::size_t num_partitions_;
  std::size_t next_constrained_ = 0;
  std::vector<float> re_;
  std::vector<float> im_;
  std::vector<float> power_;  // |W|^2, see PowerEstimate
  // Scratch of ImpulseResponse / SetImpulseResponse.
  mutable std::vector<std::complex<float>> spec_scratch_;
  mutable std::vector<float> time_scratch_;
};

}  // namespace voicecore::aec
