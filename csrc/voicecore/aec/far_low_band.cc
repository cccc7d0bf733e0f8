#include "voicecore/aec/far_low_band.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace voicecore::aec {
namespace {

// The band: a 4th-order Butterworth low-pass (two biquads) at 60 Hz.
constexpr double kCornerHz = 60.0;
constexpr double kSectionQ[2] = {0.54119610, 1.30656296};
// A burst: the low band that can be echoing now over 10x its mean. The
// mean forgets over ~2 s of far activity (0.998 per 4 ms block), so a
// talker's own low-band level is the reference, not silence. At 3x the
// detector fired on male voices' ordinary low-frequency content (the 60 Hz
// low-pass still passes some of an 85 Hz fundamental).
constexpr double kBurstRatio = 10.0;
constexpr double kMeanForget = 0.998;
// The echo of a far block lasts the room's reverberation: each block after
// the bulk delay counts at 0.87 per block (an RT60 of ~0.4 s, as the
// suppressor's residual model), over 60 blocks (240 ms, -36 dB); and 2
// blocks before it, since the delay estimate can run late.
constexpr double kTailDecay = 0.87;
constexpr int kTailBlocks = 60;
constexpr int kEarlyBlocks = 2;

}  // namespace

FarLowBand::FarLowBand(int sample_rate_hz, std::size_t block_size, std::size_t history_blocks)
    : block_size_(block_size), energy_(history_blocks + kTailBlocks + kEarlyBlocks + 1, 0.0f) {
  const double k = std::tan(std::numbers::pi * kCornerHz / static_cast<double>(sample_rate_hz));
  for (int i = 0; i < 2; ++i) {
    const double norm = 1.0 / (1.0 + k / kSectionQ[i] + k * k);
    low_pass_[i].b0 = k * k * norm;
    low_pass_[i].b1 = 2.0 * low_pass_[i].b0;
    low_pass_[i].b2 = low_pass_[i].b0;
    low_pass_[i].a1 = 2.0 * (k * k - 1.0) * norm;
    low_pass_[i].a2 = (1.0 - k / kSectionQ[i] + k * k) * norm;
  }
}

void FarLowBand::Reset() {
  for (State& s : state_) s = State{};
  std::fill(energy_.begin(), energy_.end(), 0.0f);
  newest_ = 0;
  mean_ = 0.0;
  burst_ = false;
}

void FarLowBand::Push(const float* far_block) {
  double energy = 0.0;
  for (std::size_t n = 0; n < block_size_; ++n) {
    const double y = Run(low_pass_[1], state_[1], Run(low_pass_[0], state_[0], far_block[n]));
    energy += y * y;
  }
  newest_ = newest_ + 1 == energy_.size() ? 0 : newest_ + 1;
  energy_[newest_] = static_cast<float>(energy);
}

void FarLowBand::Update(int delay_blocks, bool far_active) {
  if (!far_active) {
    burst_ = false;
    return;
  }
  const int size = static_cast<int>(energy_.size());
  const int onset = std::max(delay_blocks, 0);
  const int first = delay_blocks < 0 ? 0 : std::max(0, delay_blocks - kEarlyBlocks);
  const int last = delay_blocks < 0 ? size - 1 : std::min(size - 1, delay_blocks + kTailBlocks);
  double echoing = 0.0;
  double weight = 1.0;
  for (int d = first; d <= last; ++d) {
    if (d > onset) weight *= kTailDecay;
    const int index = static_cast<int>(newest_) - d;
    const float e = energy_[static_cast<std::size_t>(index < 0 ? index + size : index)];
    echoing = std::max(echoing, weight * static_cast<double>(e));
  }
  burst_ = echoing > 0.0 && echoing > kBurstRatio * mean_;
  mean_ = kMeanForget * mean_ + (1.0 - kMeanForget) * static_cast<double>(energy_[newest_]);
}

}  // namespace voicecore::aec
