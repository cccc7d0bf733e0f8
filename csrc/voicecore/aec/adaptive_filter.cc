#include "voicecore/aec/adaptive_filter.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "voicecore/aec/aec_common.h"

namespace voicecore::aec {

AdaptiveFilter::AdaptiveFilter(std::size_t block_size, std::size_t num_partitions)
    : kernels_(SelectAecKernels()),
      block_size_(block_size),
      num_bins_(block_size + 1),
      stride_(PaddedBins(block_size + 1)),
      num_partitions_(num_partitions),
      re_(stride_ * num_partitions, 0.0f),
      im_(stride_ * num_partitions, 0.0f),
      power_(stride_ * num_partitions, 0.0f),
      spec_scratch_(block_size + 1),
      time_scratch_(2 * block_size, 0.0f) {}

void AdaptiveFilter::Filter(const FarSpan& far, float* out_re, float* out_im) const {
  kernels_.filter(far, re_.data(), im_.data(), stride_, out_re, out_im);
}

void AdaptiveFilter::PowerEstimate(const FarSpectrumBuffer& far, std::size_t offset,
                                   float* out) const {
  std::fill(out, out + num_bins_, 0.0f);
  for (std::size_t p = 0; p < num_partitions_; ++p) {
    const float* xp = far.power(offset + p);
    const float* w2 = power_.data() + p * stride_;
    for (std::size_t k = 0; k < num_bins_; ++k) out[k] += w2[k] * xp[k];
  }
}

void AdaptiveFilter::Adapt(const FarSpectrumBuffer& far, std::size_t offset, const float* gain_re,
                           const float* gain_im, const float* partition_weights) {
  const std::size_t n = num_bins_;
  for (std::size_t p = 0; p < num_partitions_; ++p) {
    const float* xr = far.re(offset + p);
    const float* xi = far.im(offset + p);
    float* wr = re(p);
    float* wi = im(p);
    const float a = partition_weights[p];
    for (std::size_t k = 0; k < n; ++k) {
      // weight * conj(X) * G
      wr[k] += a * (xr[k] * gain_re[k] + xi[k] * gain_im[k]);
      wi[k] += a * (xr[k] * gain_im[k] - xi[k] * gain_re[k]);
    }
  }
}

void AdaptiveFilter::FilterPair(const AecKernels& kernels, const FarSpan& far,
                                const AdaptiveFilter& a, const AdaptiveFilter& b, float* a_re,
                                float* a_im, float* b_re, float* b_im) {
  kernels.filter_pair(far, a.re_.data(), a.im_.data(), b.re_.data(), b.im_.data(), a.stride_, a_re,
                      a_im, b_re, b_im);
}

void AdaptiveFilter::Adapt(const AecKernels& kernels, const FarSpan& far, const float* gain_re,
                           const float* gain_im, const float* partition_weights) {
  kernels.adapt(far, re_.data(), im_.data(), stride_, gain_re, gain_im, partition_weights);
}

void AdaptiveFilter::ConstrainNext(RealFft& fft, std::complex<float>* spectrum_scratch,
                                   float* time_scratch) {
  const std::size_t p = next_constrained_;
  next_constrained_ = Next(next_constrained_, num_partitions_);
  float* wr = re(p);
  float* wi = im(p);
  for (std::size_t k = 0; k < num_bins_; ++k) spectrum_scratch[k] = {wr[k], wi[k]};
  fft.Inverse(spectrum_scratch, time_scratch);
  std::fill(time_scratch + block_size_, time_scratch + 2 * block_size_, 0.0f);
  fft.Forward(time_scratch, spectrum_scratch);
  for (std::size_t k = 0; k < num_bins_; ++k) {
    wr[k] = spectrum_scratch[k].real();
    wi[k] = spectrum_scratch[k].imag();
  }
}

void AdaptiveFilter::ImpulseResponse(RealFft& fft, float* taps) const {
  for (std::size_t p = 0; p < num_partitions_; ++p) {
    const float* wr = re(p);
    const float* wi = im(p);
    for (std::size_t k = 0; k < num_bins_; ++k) spec_scratch_[k] = {wr[k], wi[k]};
    fft.Inverse(spec_scratch_.data(), time_scratch_.data());
    std::copy(time_scratch_.begin(), time_scratch_.begin() + static_cast<std::ptrdiff_t>(block_size_),
              taps + p * block_size_);
  }
}

void AdaptiveFilter::SetImpulseResponse(RealFft& fft, const float* taps) {
  for (std::size_t p = 0; p < num_partitions_; ++p) {
    std::copy(taps + p * block_size_, taps + (p + 1) * block_size_, time_scratch_.begin());
    std::fill(time_scratch_.begin() + static_cast<std::ptrdiff_t>(block_size_), time_scratch_.end(), 0.0f);
    fft.Forward(time_scratch_.data(), spec_scratch_.data());
    float* wr = re(p);
    float* wi = im(p);
    for (std::size_t k = 0; k < num_bins_; ++k) {
      wr[k] = spec_scratch_[k].real();
      wi[k] = spec_scratch_[k].imag();
    }
  }
  RefreshPower();
}

void AdaptiveFilter::Shift(int blocks) {
  if (blocks == 0) return;
  const std::size_t s = static_cast<std::size_t>(std::abs(blocks));
  const std::size_t span = stride_ * num_partitions_;
  const std::size_t moved = std::min(s, num_partitions_) * stride_;
  if (blocks > 0) {
    // Partition p takes partition p + s; the last s partitions start empty.
    std::copy(re_.begin() + static_cast<std::ptrdiff_t>(moved), re_.end(), re_.begin());
    std::copy(im_.begin() + static_cast<std::ptrdiff_t>(moved), im_.end(), im_.begin());
    std::fill(re_.begin() + static_cast<std::ptrdiff_t>(span - moved), re_.end(), 0.0f);
    std::fill(im_.begin() + static_cast<std::ptrdiff_t>(span - moved), im_.end(), 0.0f);
  } else {
    std::copy_backward(re_.begin(), re_.end() - static_cast<std::ptrdiff_t>(moved), re_.end());
    std::copy_backward(im_.begin(), im_.end() - static_cast<std::ptrdiff_t>(moved), im_.end());
    std::fill(re_.begin(), re_.begin() + static_cast<std::ptrdiff_t>(moved), 0.0f);
    std::fill(im_.begin(), im_.begin() + static_cast<std::ptrdiff_t>(moved), 0.0f);
  }
  RefreshPower();
}

void AdaptiveFilter::CopyFrom(const AdaptiveFilter& other) {
  std::copy(other.re_.begin(), other.re_.end(), re_.begin());
  std::copy(other.im_.begin(), other.im_.end(), im_.begin());
  RefreshPower();
}

void AdaptiveFilter::Scale(float factor) {
  for (std::size_t i = 0; i < re_.size(); ++i) {
    re_[i] *= factor;
    im_[i] *= factor;
  }
  RefreshPower();
}

void AdaptiveFilter::RefreshPower() {
  for (std::size_t i = 0; i < re_.size(); ++i) power_[i] = re_[i] * re_[i] + im_[i] * im_[i];
}

void AdaptiveFilter::Reset() {
  std::fill(re_.begin(), re_.end(), 0.0f);
  std::fill(im_.begin(), im_.end(), 0.0f);
  std::fill(power_.begin(), power_.end(), 0.0f);
  next_constrained_ = 0;
}

void AdaptiveFilter::PartitionEnergies(float* out) const {
  kernels_.partition_energies(re_.data(), im_.data(), stride_, num_partitions_, num_bins_, out);
}

void AdaptiveFilter::PartitionNorms(float* out) const {
  PartitionEnergies(out);
  for (std::size_t p = 0; p < num_partitions_; ++p) out[p] = std::sqrt(out[p]);
}

}  // namespace voicecore::aec
