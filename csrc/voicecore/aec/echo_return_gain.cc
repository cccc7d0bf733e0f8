#include "voicecore/aec/echo_return_gain.h"

#include <algorithm>

#include "voicecore/aec/aec_common.h"

namespace voicecore::aec {
namespace {

// Warm-up form. It decides only once it has had its time constant of data
// (kEarlyForget, kEarlyMinBlocks). The prediction has a floor of 0.5 x the
// fallback's gain x the far power (a bin counts only over 8x the far power
// itself): a clipping loudspeaker's echo follows no power-linear model
// (compression, harmonics), and with a floor of 0.3 it still read as talk in
// three of seven clipped generated rooms, but it stays under the
// loudspeaker's coupling. The far power is weighted like the step (uniform
// over the span plus the prior, while the filter is empty): the delay
// estimate can run a few blocks late, and the prior alone then misses the
// echo's onsets, which read as talk. A negative slope is noise; one above the
// fallback's gain is louder than any coupling the fallback assumes.
constexpr float kEarlyForget = 0.98f;
constexpr int kEarlyMinBlocks = 50;
constexpr float kEarlyFloor = 0.5f;
constexpr std::size_t kEarlyPoolBins = 2;

}  // namespace

EchoReturnGain::EchoReturnGain(std::size_t num_bins)
    : num_bins_(num_bins),
      num_(num_bins, 0.0f),
      den_(num_bins, 0.0f),
      early_num_(num_bins, 0.0f),
      early_den_(num_bins, 0.0f),
      early_mf_(num_bins, 0.0f),
      early_mm_(num_bins, 0.0f) {}

void EchoReturnGain::Reset() {
  std::fill(num_.begin(), num_.end(), 0.0f);
  std::fill(den_.begin(), den_.end(), 0.0f);
  std::fill(early_num_.begin(), early_num_.end(), 0.0f);
  std::fill(early_den_.begin(), early_den_.end(), 0.0f);
  std::fill(early_mf_.begin(), early_mf_.end(), 0.0f);
  std::fill(early_mm_.begin(), early_mm_.end(), 0.0f);
  early_blocks_ = 0;
}

EchoReturnGain::Excess EchoReturnGain::WarmupExcess(const float* near_power, const float* far_weighted,
                                                    const float* far_prior, const float* noise_floor) {
  const float a = early_blocks_ == 0 ? 1.0f : 1.0f - kEarlyForget;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    const float f = far_weighted[k];
    const float m = near_power[k];
    early_mf_[k] += a * (f - early_mf_[k]);
    early_mm_[k] += a * (m - early_mm_[k]);
    const float df = f - early_mf_[k];
    early_num_[k] += a * (df * (m - early_mm_[k]) - early_num_[k]);
    early_den_[k] += a * (df * df - early_den_[k]);
  }
  // Sliding sums over bins k-2..k+2.
  const std::size_t w = kEarlyPoolBins;
  float num = 0.0f;
  float den = 0.0f;
  for (std::size_t k = 0; k < std::min(w, num_bins_); ++k) {
    num += early_num_[k];
    den += early_den_[k];
  }
  Excess out;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    if (k + w < num_bins_) {
      num += early_num_[k + w];
      den += early_den_[k + w];
    }
    if (k > w) {
      num -= early_num_[k - w - 1];
      den -= early_den_[k - w - 1];
    }
    const float gain = std::clamp(std::max(num, 0.0f) / (den + kTiny), 0.0f, kFallbackGain);
    const float predicted =
        std::max(gain * far_weighted[k], kEarlyFloor * kFallbackGain * far_prior[k]) + noise_floor[k];
    const float over = std::max(0.0f, near_power[k] - kWarmupExcess * predicted);
    out.excess += over;
    if (k == 0) out.dc_excess = over;
    out.mic_total += near_power[k];
  }
  ++early_blocks_;
  out.decided = early_blocks_ > kEarlyMinBlocks;
  return out;
}

EchoReturnGain::Excess EchoReturnGain::LearntExcess(const float* near_power, const float* far_prior,
                                                    const float* noise_floor, float threshold,
                                                    float weak_threshold) const {
  Excess out;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    out.mic_total += near_power[k];
    if (den_[k] > kTiny) {
      out.decided = true;
      // Sensor and room noise is not near-end speech: a bin counts only
      // above the predicted echo plus the noise floor. Without the floor,
      // the noise in the far end's pauses (the echo prediction near zero
      // while the span still holds far samples) read as double talk.
      const float predicted = num_[k] / den_[k] * far_prior[k] + noise_floor[k];
      const float over = std::max(0.0f, near_power[k] - threshold * predicted);
      out.excess += over;
      if (k == 0) out.dc_excess = over;
      out.weak_excess += std::max(0.0f, near_power[k] - weak_threshold * predicted);
    }
  }
  return out;
}

void EchoReturnGain::Learn(const float* near_power, const float* far_prior, float rate) {
  for (std::size_t k = 0; k < num_bins_; ++k) {
    num_[k] += rate * (near_power[k] - num_[k]);
    den_[k] += rate * (far_prior[k] - den_[k]);
  }
}

float EchoReturnGain::Gain(std::size_t k, float otherwise) const {
  return den_[k] > kTiny ? num_[k] / den_[k] : otherwise;
}

}  // namespace voicecore::aec
