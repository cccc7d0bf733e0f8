#include "voicecore/aec/far_spectrum_buffer.h"

#include <algorithm>

#include "voicecore/aec/aec_common.h"

namespace voicecore::aec {

FarSpectrumBuffer::FarSpectrumBuffer(std::size_t num_bins, std::size_t depth)
    : num_bins_(num_bins),
      stride_(PaddedBins(num_bins)),
      depth_(depth),
      re_(stride_ * depth, 0.0f),
      im_(stride_ * depth, 0.0f),
      power_(stride_ * depth, 0.0f),
      energy_(depth, 0.0f) {}

void FarSpectrumBuffer::Push(const float* re, const float* im) {
  newest_ = Next(newest_, depth_);
  float* r = re_.data() + newest_ * stride_;
  float* i = im_.data() + newest_ * stride_;
  float* p = power_.data() + newest_ * stride_;
  float e = 0.0f;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    r[k] = re[k];
    i[k] = im[k];
    p[k] = re[k] * re[k] + im[k] * im[k];
    e += p[k];
  }
  energy_[newest_] = e;
}

void FarSpectrumBuffer::Reset() {
  std::fill(re_.begin(), re_.end(), 0.0f);
  std::fill(im_.begin(), im_.end(), 0.0f);
  std::fill(power_.begin(), power_.end(), 0.0f);
  std::fill(energy_.begin(), energy_.end(), 0.0f);
  newest_ = 0;
}

}  // namespace voicecore::aec
