// Echo-return gain per bin: the mic power the far end alone produces per unit
// of far power over the filter span, learnt without the adaptive filters. The
// energy double-talk detector (EchoCanceller) compares the mic with the echo
// it predicts, and the suppressor's filter-free fallback echo estimate is
// built from it; a filter that is still learning, or that a talker has
// pulled, blinds neither.
//
// Two forms. The learnt gain is the ratio of the smoothed mic power to the
// smoothed far power, updated by the canceller while the far end plays (more
// slowly while the detector fires, so it can never lock itself out). Until it
// has had its first second, a warm-up gain takes its place (WarmupExcess):
// the regression slope of the mic power on the far power over the span
// (smoothed over ~50 blocks, 200 ms, from the delay's first lock; pooled over
// +-2 bins, since one bin's slope over so few blocks is noisy). A near-end
// talker adds power that does not follow the far end's fluctuations, so the
// slope stays the echo's even when the talker is there from the first block,
// where a plain power ratio would learn the talker as echo.
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <cstddef>
#include <vector>

namespace voicecore::aec {

class EchoReturnGain {
 public:
  // The warm-up form's threshold: a bin counts as talk 9 dB over its
  // prediction (single talk must not read as talk while the suppressor still
  // lets the not-yet-cancelled echo through). The learnt form's threshold
  // starts here and falls (EchoCanceller, kTalkExcess).
  static constexpr float kWarmupExcess = 8.0f;

  // Mic power over `threshold` x the predicted echo, summed over the bins,
  // and the mic power over all of them. `decided`: the gain behind the
  // prediction has had enough data to be trusted.
  struct Excess {
    float excess = 0.0f;
    float dc_excess = 0.0f;  // bin 0's part of `excess`
    float weak_excess = 0.0f;  // the same over `weak_threshold` (learnt form only)
    float mic_total = 0.0f;
    bool decided = false;
  };

  explicit EchoReturnGain(std::size_t num_bins);
  EchoReturnGain(const EchoReturnGain&) = delete;
  EchoReturnGain& operator=(const EchoReturnGain&) = delete;

  void Reset();

  // Warm-up form: updates the regression with this block (`far_weighted`: the
  // far power weighted like the filter's step; see the .cc) and measures the
  // block's excess over it at kWarmupExcess. `noise_floor` is the mic's
  // biased noise floor per bin, added to every prediction.
  Excess WarmupExcess(const float* near_power, const float* far_weighted, const float* far_prior,
                      const float* noise_floor);
  // Learnt form: excess over `threshold` x (gain x far_prior + noise_floor),
  // over the bins that have a gain, and over `weak_threshold` x the same.
  Excess LearntExcess(const float* near_power, const float* far_prior, const float* noise_floor,
                      float threshold, float weak_threshold) const;
  // One smoothing step of the learnt gain (`rate`: the step's weight).
  void Learn(const float* near_power, const float* far_prior, float rate);
  // The learnt gain of bin k, or `otherwise` where nothing has been learnt.
  float Gain(std::size_t k, float otherwise) const;

 private:
  std::size_t num_bins_;
  std::vector<float> num_;  // smoothed mic power per bin (far end alone)
  std::vector<float> den_;  // smoothed far power over the span, same blocks
  // Warm-up regression per bin: the smoothed covariance of mic and far
  // power, the far power's variance, and their means.
  std::vector<float> early_num_;
  std::vector<float> early_den_;
  std::vector<float> early_mf_;
  std::vector<float> early_mm_;
  int early_blocks_ = 0;  // blocks the warm-up form has seen
};

}  // namespace voicecore::aec
