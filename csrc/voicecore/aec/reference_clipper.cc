#include "voicecore/aec/reference_clipper.h"

#include <algorithm>
#include <cmath>

#include "voicecore/aec/aec_common.h"

namespace voicecore::aec {
namespace {

// Candidate levels: -30 dBFS up to -10 dBFS in 4 dB steps. Below -30 dBFS a
// loudspeaker would clip ordinary speech into a square wave; above -10 dBFS
// only the rare peaks of speech mastered near full scale clip, and a clip
// that rare costs the linear filter little.
constexpr int kLevels = 6;
constexpr float kLowestLevel = 0.0316f;
constexpr float kLevelStepDb = 4.0f;
// Scored blocks (far-end single talk, about 4 ms each) before a decision,
// and after which calibration gives up: 0.5 s (per test) and 10 s.
constexpr int kMinScored = 125;
constexpr int kMaxScored = 2500;
// Correlation of the filtered distortion with the foreground error that
// counts as a clipping loudspeaker. Without clipping it stays near 0 (the
// error is noise and misadjustment; 0.07 at most on 40 generated rooms once
// the filter has converged); with the corpus's clipping it was 0.22-0.64.
// At 0.3, 8 of 60 x05 rooms never adopted (those checked: 0.22-0.27); 0.2 needs the
// kCappedRatio gate, without which about 20 of 1800 unclipped generated rooms
// adopted a level while their filter was young (s2773_x01 51.9 -> 42.1 dB).
constexpr float kAdoptCorrelation = 0.2f;
// A candidate whose distortion carries less than this share of the error's
// energy does not clip the signal at all (its level is above the peaks).
constexpr double kMinDistortion = 1e-4;
// Clipping distortion caps the linear filter's single-talk cancellation (3-8
// dB in the x05 rooms); a level is adopted only while the filter removes less
// than 10 dB (the ratio of its error to the mic over the last ~100 blocks of
// far-end single talk, see Track).
constexpr double kCappedRatio = 0.1;
// Trial after adoption (blocks of far-end single talk): settling, then the
// comparison window; the ratio before adoption forgets over ~100 blocks.
constexpr int kTrialSettleBlocks = 50;
constexpr int kTrialBlocks = 250;
constexpr double kBeforeForget = 0.99;
// A level is reverted only if it made that ratio 3 dB worse. In a clipped
// room with double talk the ratio is noisy (a talker the detector misses
// lands in it), and a stricter test reverted real levels (s909_x05: 39.7 ->
// 21.9 dB).
constexpr double kTrialWorse = 2.0;

}  // namespace

ReferenceClipper::ReferenceClipper(std::size_t block_size, std::size_t depth, bool enabled)
    : block_size_(block_size),
      num_bins_(block_size + 1),
      enabled_(enabled),
      prev_(block_size, 0.0f),
      time_(2 * block_size, 0.0f),
      spec_(block_size + 1),
      re_(PaddedBins(block_size + 1), 0.0f),
      im_(PaddedBins(block_size + 1), 0.0f),
      span_re_(enabled ? depth : 0, nullptr),
      span_im_(enabled ? depth : 0, nullptr),
      span_power_(enabled ? depth : 0, nullptr),
      span_live_(enabled ? depth : 0, 0),
      raw_(block_size + 1, enabled ? depth : 1) {
  for (int k = 0; enabled && k < kLevels; ++k) {
    candidates_.emplace_back(num_bins_, depth);
    candidates_.back().level =
        kLowestLevel * std::pow(10.0f, kLevelStepDb * static_cast<float>(k) / 20.0f);
  }
  Reset();
}

void ReferenceClipper::Reset() {
  for (Candidate& c : candidates_) {
    c.history.Reset();
    c.xz = c.zz = c.er = c.rr = 0.0;
  }
  std::fill(prev_.begin(), prev_.end(), 0.0f);
  raw_.Reset();
  trial_ = false;
  trial_blocks_ = 0;
  before_error_ = before_mic_ = after_error_ = after_mic_ = 0.0;
  xx_ = 0.0;
  ee_ = 0.0;
  scored_ = 0;
  total_scored_ = 0;
  calibrating_ = enabled_;
  level_ = 0.0f;
  scale_ = 1.0f;
  alpha_ = 1.0f;
  adopted_ = -1;
  first_pass_ = -1;
  best_corr_ = 0.0f;
}

void ReferenceClipper::Apply(float* block) const {
  if (level_ <= 0.0f) return;
  for (std::size_t i = 0; i < block_size_; ++i) {
    block[i] = scale_ * std::clamp(block[i], -level_, level_);
  }
}

void ReferenceClipper::PushRawFar(RealFft& fft, const float* block) {
  const std::size_t b = block_size_;
  std::copy(prev_.begin(), prev_.end(), time_.begin());
  std::copy(block, block + b, time_.begin() + static_cast<std::ptrdiff_t>(b));
  fft.ForwardOrZero(time_.data(), spec_.data());
  for (std::size_t k = 0; k < num_bins_; ++k) {
    re_[k] = spec_[k].real();
    im_[k] = spec_[k].imag();
  }
  raw_.Push(re_.data(), im_.data());
  std::copy(block, block + b, prev_.begin());
}

void ReferenceClipper::PushCandidates(RealFft& fft, const float* block, const float* raw_re,
                                      const float* raw_im) {
  const std::size_t b = block_size_;
  float peak = 0.0f;
  for (std::size_t i = 0; i < b; ++i) {
    xx_ += static_cast<double>(block[i]) * block[i];
    peak = std::max(peak, std::max(std::fabs(prev_[i]), std::fabs(block[i])));
  }
  // The block's sum of x^2: what x * clip(x, c) and clip(x, c)^2 sum to for a
  // level that clips nothing, in the order the loop below sums them.
  double unclipped_sum = -1.0;
  for (Candidate& c : candidates_) {
    const float l = c.level;
    if (peak <= l) {
      if (unclipped_sum < 0.0) {
        unclipped_sum = 0.0;
        for (std::size_t i = 0; i < b; ++i) unclipped_sum += static_cast<double>(block[i]) * block[i];
      }
      c.xz += unclipped_sum;
      c.zz += unclipped_sum;
      c.history.Push(raw_re, raw_im);
      continue;
    }
    double xz = 0.0;
    double zz = 0.0;
    for (std::size_t i = 0; i < b; ++i) {
      time_[i] = std::clamp(prev_[i], -l, l);
      const float z = std::clamp(block[i], -l, l);
      time_[b + i] = z;
      xz += static_cast<double>(block[i]) * z;
      zz += static_cast<double>(z) * z;
    }
    c.xz += xz;
    c.zz += zz;
    fft.ForwardOrZero(time_.data(), spec_.data());
    for (std::size_t k = 0; k < num_bins_; ++k) {
      re_[k] = spec_[k].real();
      im_[k] = spec_[k].imag();
    }
    c.history.Push(re_.data(), im_.data());
  }
  std::copy(block, block + b, prev_.begin());
}

void ReferenceClipper::Score(const AdaptiveFilter& foreground, std::size_t offset, RealFft& fft,
                             const float* error, const float* echo) {
  const std::size_t b = block_size_;
  double ee = 0.0;
  for (std::size_t i = 0; i < b; ++i) ee += static_cast<double>(error[i]) * error[i];
  ee_ += ee;
  const std::size_t partitions = foreground.num_partitions();
  for (Candidate& c : candidates_) {
    const std::size_t live = c.history.Span(offset, partitions, span_re_.data(), span_im_.data(),
                                            span_power_.data(), span_live_.data());
    const FarSpan span{span_re_.data(), span_im_.data(), span_power_.data(), partitions,
                       PaddedBins(num_bins_), span_live_.data(), live};
    foreground.Filter(span, re_.data(), im_.data());
    for (std::size_t k = 0; k < num_bins_; ++k) spec_[k] = {re_[k], im_[k]};
    fft.Inverse(spec_.data(), time_.data());
    // The distortion's echo: the filtered clipped signal less the part the
    // filter already predicts from x.
    const float a = xx_ > 0.0 ? static_cast<float>(c.xz / xx_) : 1.0f;
    double er = 0.0;
    double rr = 0.0;
    for (std::size_t i = 0; i < b; ++i) {
      const float r = time_[b + i] - a * echo[i];
      er += static_cast<double>(error[i]) * r;
      rr += static_cast<double>(r) * r;
    }
    c.er += er;
    c.rr += rr;
  }
  ++scored_;
  ++total_scored_;
}

bool ReferenceClipper::Decide() {
  if (!calibrating_ || scored_ < kMinScored) return false;
  int best = -1;
  float best_corr = 0.0f;
  for (int k = 0; k < kLevels; ++k) {
    const Candidate& c = candidates_[static_cast<std::size_t>(k)];
    if (c.rr <= kMinDistortion * ee_) continue;
    const float corr = static_cast<float>(c.er / std::sqrt(c.rr * ee_));
    if (corr > best_corr) {
      best_corr = corr;
      best = k;
    }
  }
  best_corr_ = best_corr;
  // Clipping distortion caps what the linear filter removes; a filter that
  // already removes 10 dB in single talk is not limited by it.
  const bool capped = before_error_ > kCappedRatio * before_mic_;
  const bool pass = best >= 0 && best_corr >= kAdoptCorrelation && capped;
  // A filter still learning leaves a linear residual that can correlate with
  // a candidate by chance (up to 0.47 on a room that does not clip, in its
  // first seconds). So the test is made twice, on fresh sums, and the level
  // must pass both times (the same or a neighbouring candidate).
  if (pass && (first_pass_ < 0 || std::abs(first_pass_ - best) > 1)) {
    first_pass_ = best;
    for (Candidate& c : candidates_) c.er = c.rr = 0.0;
    ee_ = 0.0;
    scored_ = 0;
    return false;
  }
  if (!pass) first_pass_ = -1;
  if (pass) {
    const Candidate& c = candidates_[static_cast<std::size_t>(best)];
    adopted_ = best;
    level_ = c.level;
    scale_ = c.zz > 0.0 ? static_cast<float>(std::sqrt(xx_ / c.zz)) : 1.0f;
    alpha_ = xx_ > 0.0 ? static_cast<float>(c.xz / xx_) : 1.0f;
    calibrating_ = false;
    return true;
  }
  if (total_scored_ >= kMaxScored) calibrating_ = false;
  return false;
}

float ReferenceClipper::AdoptInto(FarSpectrumBuffer& far) {
  raw_.AssignScaled(far, 1.0f);
  far.AssignScaled(candidates_[static_cast<std::size_t>(adopted_)].history, scale_);
  trial_ = true;
  trial_blocks_ = 0;
  return 1.0f / (alpha_ * scale_);
}

void ReferenceClipper::Track(float error_energy, float mic_energy) {
  if (calibrating_) {
    before_error_ = kBeforeForget * before_error_ + error_energy;
    before_mic_ = kBeforeForget * before_mic_ + mic_energy;
  } else if (trial_ && ++trial_blocks_ > kTrialSettleBlocks) {
    after_error_ += error_energy;
    after_mic_ += mic_energy;
  }
}

int ReferenceClipper::TrialVerdict() {
  if (!trial_ || trial_blocks_ < kTrialSettleBlocks + kTrialBlocks) return 0;
  trial_ = false;
  const bool worse = after_error_ * before_mic_ > kTrialWorse * before_error_ * after_mic_;
  return worse ? -1 : 1;
}

void ReferenceClipper::RevertInto(FarSpectrumBuffer& far) {
  far.AssignScaled(raw_, 1.0f);
  level_ = 0.0f;
  trial_ = false;
}

}  // namespace voicecore::aec
