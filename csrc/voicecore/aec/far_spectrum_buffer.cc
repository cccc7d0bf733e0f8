#include "voicecore/aec/far_spectrum_buffer.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "voicecore/aec/aec_common.h"

namespace voicecore::aec {

FarSpectrumBuffer::FarSpectrumBuffer(std::size_t num_bins, std::size_t depth)
    : num_bins_(num_bins),
      stride_(PaddedBins(num_bins)),
      depth_(depth),
      re_(stride_ * depth, 0.0f),
      im_(stride_ * depth, 0.0f),
      power_(stride_ * depth, 0.0f),
      energy_(depth, 0.0f),
      silent_(depth, 1) {}

void FarSpectrumBuffer::Push(const float* re, const float* im) {
  newest_ = Next(newest_, depth_);
  float* r = re_.data() + newest_ * stride_;
  float* i = im_.data() + newest_ * stride_;
  float* p = power_.data() + newest_ * stride_;
  // The per-bin work in one loop that vectorises; the energy's running sum
  // (in bin order) in a second.
  std::uint32_t bits = 0;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    r[k] = re[k];
    i[k] = im[k];
    p[k] = re[k] * re[k] + im[k] * im[k];
    std::uint32_t a, b;
    std::memcpy(&a, re + k, sizeof a);
    std::memcpy(&b, im + k, sizeof b);
    bits |= a | b;
  }
  silent_[newest_] = bits == 0 ? 1 : 0;
  float e = 0.0f;
  for (std::size_t k = 0; k < num_bins_; ++k) e += p[k];
  energy_[newest_] = e;
}

// Both walk the ring from the slot `offset` blocks ago towards older blocks,
// one slot a step, instead of computing every slot afresh.
std::size_t FarSpectrumBuffer::Span(std::size_t offset, std::size_t partitions, const float** re,
                                    const float** im, const float** power,
                                    std::uint32_t* live) const {
  std::size_t slot = Slot(offset);
  std::size_t n = 0;
  for (std::size_t p = 0; p < partitions; ++p) {
    re[p] = re_.data() + slot * stride_;
    im[p] = im_.data() + slot * stride_;
    power[p] = power_.data() + slot * stride_;
    if (silent_[slot] == 0) live[n++] = static_cast<std::uint32_t>(p);
    slot = slot == 0 ? depth_ - 1 : slot - 1;
  }
  return n;
}

float FarSpectrumBuffer::SpanEnergy(std::size_t offset, std::size_t partitions) const {
  std::size_t slot = Slot(offset);
  float e = 0.0f;
  for (std::size_t p = 0; p < partitions; ++p) {
    e += energy_[slot];
    slot = slot == 0 ? depth_ - 1 : slot - 1;
  }
  return e;
}

void FarSpectrumBuffer::AssignScaled(const FarSpectrumBuffer& other, float s) {
  const float s2 = s * s;
  for (std::size_t i = 0; i < re_.size(); ++i) {
    re_[i] = s * other.re_[i];
    im_[i] = s * other.im_[i];
    power_[i] = s2 * other.power_[i];
  }
  for (std::size_t i = 0; i < energy_.size(); ++i) energy_[i] = s2 * other.energy_[i];
  silent_ = other.silent_;
  newest_ = other.newest_;
}

void FarSpectrumBuffer::Reset() {
  std::fill(re_.begin(), re_.end(), 0.0f);
  std::fill(im_.begin(), im_.end(), 0.0f);
  std::fill(power_.begin(), power_.end(), 0.0f);
  std::fill(energy_.begin(), energy_.end(), 0.0f);
  std::fill(silent_.begin(), silent_.end(), 1);
  newest_ = 0;
}

}  // namespace voicecore::aec
