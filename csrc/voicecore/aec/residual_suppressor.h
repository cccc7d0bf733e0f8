// Nonlinear residual echo suppressor with comfort noise.
//
// The linear filter leaves a residual: misadjustment, the reverberant tail past
// the filter, and loudspeaker distortion. The suppressor estimates it per bin
// as leakage * |echo estimate|^2, where the leakage is the ratio of the
// error's smoothed power to the echo estimate's (after Valin's MDF paper),
// learnt only in blocks not taken for talk, so that a talker does not inflate
// it; near talk, the one learnt from blocks of echo alone caps it (a talker
// the detectors miss is learnt as residual otherwise). In single
// talk a nonlinear residual is added: the error power the leakage leaves
// unexplained, learnt per bin per unit of total echo power (a clipping
// loudspeaker's harmonics land in bins the linear estimate leaves empty, at a
// level that follows the echo's total power). The gain is
// a power subtraction with over-subtraction and a floor; the bins it removes
// are refilled with noise shaped like the tracked noise floor, so the output
// never drops to digital silence.
//
// At call start the linear filter is empty and its echo estimate is nothing,
// so neither residual above sees the echo. A fallback covers that time: a
// filter-free echo estimate (echo-return gain x far power, from the canceller)
// scaled per bin by the share the filter still leaves, which starts at 1 and
// only falls once an echo could have been heard: towards the error / fallback
// ratio in single talk, and by ~200 ms time decay, so a room the filter never
// learns (or a headset without echo, with a talker) is not held down for
// long. It is subtracted in single talk only, so a detected talker keeps his
// level; as the filter converges the share drops towards its ERLE. Outside
// talk the share has floors (kFallbackFloor, kQuietFallbackFloor): the
// filter's own residual estimates lag content it has not converged on.
//
// Analysis and synthesis use a sqrt-Hann window over two blocks with 50 %
// overlap, which adds one block of latency.
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "voicecore/common/real_fft.h"

namespace voicecore::aec {

// Inputs of the missed-talk model (ResidualSuppressor, kMissedTalkDouble).
inline constexpr int kMissedTalkFeatures = 25;

// What the canceller knows of a block that the missed-talk model and the
// fallback's floors read (see ResidualSuppressor::Process).
struct MissedTalkCues {
  float weak_share = 0.0f;  // mic energy share over 1.5x the predicted echo (EchoCanceller)
  float talk_share = 0.0f;  // ... over the energy detector's talk threshold
  int since_change = 0;     // blocks since the last confirmed delay change (capped)
  bool clip_active = false; // a clip level is adopted (ReferenceClipper)
  // The linear filter removes under EchoCanceller's kWeakFilterDb (see
  // kWeakFilterFallbackFloor).
  bool weak_filter = false;
  // A clip level is adopted, or a candidate level correlates with the filter's
  // error (EchoCanceller, kCoherenceClipCorrelation): the residual is not
  // linear in the far end (see kWeakFilterFallbackFloor, kMissedTalkDoubleUnder).
  bool clip_suspected = false;
};

class ResidualSuppressor {
 public:
  ResidualSuppressor(std::size_t block_size, std::uint32_t seed);
  ResidualSuppressor(const ResidualSuppressor&) = delete;
  ResidualSuppressor& operator=(const ResidualSuppressor&) = delete;

  // `near`: the microphone block; `echo`: the linear canceller's echo
  // estimate block (its output, the error, is near - echo and is formed here
  // in the frequency domain); `far_active`: the far end plays into the
  // filter's span. Writes block_size samples to `out` (the block before
  // `near`, one block late).
  // `shadow_echo`: the background filter's echo estimate (for double-talk
  // detection only).
  // `echo_power`: power-domain echo estimate (num_bins values, see
  // AdaptiveFilter::PowerEstimate); `fallback_power`: the filter-free echo
  // estimate (num_bins values); `fallback_fade`: the fallback's share may
  // fall (an echo could have been heard by now); `external_talk`: the
  // canceller's energy double-talk detector (with its hangover);
  // `external_talk_now`: its decision in this block alone; `error_unexplained`:
  // the canceller trusts its filter and the far end explains little of the
  // filter's error in this block (see kLoneCoherenceBlocks);
  // `cues`: what the canceller knows of the block for the missed-talk model
  // (see kMissedTalkDouble); `rearm`: the linear estimate
  // is known to be wrong in this block (the echo path moved), so the
  // fallback's share goes back to 1 and any talk hangover ends (see
  // EchoCanceller, kWorseRatio). `low_bin_echo`: an echo power the lowest bin
  // is suppressed against whatever the talk state (0: none; see FarLowBand).
  void Process(const float* near, const float* echo, const float* shadow_echo,
               const float* echo_power, const float* fallback_power, bool fallback_fade,
               bool far_active, bool external_talk, bool external_talk_now, bool error_unexplained,
               const MissedTalkCues& cues, bool rearm, float low_bin_echo, float* out);
  void Reset();
  // The missed-talk model's lower thresholds (see kMissedTalkDoubleFavoured
  // and kMissedTalkLoneFavoured; EchoCanceller's favour_talker). Kept across
  // Reset().
  void set_favour_talker(bool on) { favour_talker_ = on; }

  // For the offline fit of the missed-talk model (bench/fit_missed_talk.py):
  // `force` -1 lets the model decide; 0, 1 or 2 treats every candidate block
  // (see kMissedTalkDouble) as single talk, like the coherence detector's lone
  // blocks, or like double talk. `record` keeps one row per block: its index
  // since the reset, 1 for a candidate block (else 0), the model's
  // kMissedTalkFeatures features (zeros outside the candidates), then the
  // block's gain per bin (num_bins values). Not for production use: the rows
  // grow without bound.
  void SetMissedTalkFit(int force, bool record);
  std::vector<float> TakeMissedTalkRows();

  // Mean over bins of the error / echo-estimate coherence in the last block.
  float leakage() const { return leakage_; }
  // Last block: error power clearly above residual echo + noise while the far
  // end plays (the near end talks over the echo).
  bool near_talk() const { return near_talk_; }
  // Mean gain over bins of the last block (1 = untouched).
  float mean_gain() const { return mean_gain_; }
  // Last block: the share of the mic energy above the noise floor that is
  // coherent with either echo estimate (1 = all echo the filters can model).
  float coherent_share() const { return coherent_share_; }
  // The call's talker sits under the echo: at least kUnderEchoTalkBlocks
  // blocks taken for talk so far, and in them the mic energy incoherent with
  // the echo estimates averages under kUnderEchoRatio times the coherent
  // energy (see EchoCanceller's use of it for a single lost block).
  bool talker_under_echo() const;
  // Talk both detectors confirmed ended at most kLoneCoherenceBlocks ago: the
  // canceller's `error_unexplained` can matter in the next block.
  bool confirmed_talk_recent() const;
  // Both detectors have confirmed talk at least once in the call.
  bool talker_heard() const { return talker_heard_; }

 private:
  float NextUniform();  // uniform in [-1, 1)
  // Bin k's leakage learnt in every block not taken for talk, and the one
  // used near talk: capped by the echo-alone leakage where that one is
  // covered (kGuardedLeakBlocks, kEchoLeakCoverage). V: float or Float4.
  template <typename V>
  V AllLeak(std::size_t k) const;
  template <typename V>
  V NearTalkLeak(std::size_t k, V all_leak) const;
  // The error's power above the noise floor, summed over bins (this block).
  float ErrorOverNoise() const;
  // See kMissedTalkUnderMicEcho.
  bool TalkUnderFilterFreeEcho() const;
  // The error above the noise floor is well under the residual model's
  // prediction in this block (see kEchoExplained).
  bool ErrorExplained(const float* echo_power) const;

  const std::size_t block_size_;
  const std::size_t fft_size_;
  const std::size_t num_bins_;
  RealFft fft_;
  std::vector<float> window_;
  std::vector<float> prev_echo_;
  std::vector<float> overlap_;
  std::vector<float> time_;
  std::vector<std::complex<float>> error_spec_;
  std::vector<std::complex<float>> echo_spec_;
  std::vector<float> residual_;     // per-bin residual echo power
  std::vector<float> noise_;        // per-bin noise floor of |E|^2
  std::vector<float> gain_;
  std::vector<float> see_;                 // smoothed |E|^2
  std::vector<float> syy_;                 // smoothed |Y|^2
  std::vector<std::complex<float>> sey_;   // smoothed E conj(Y)
  std::vector<float> coherence_;
  std::vector<float> mic_coh_;      // per-bin scratch of Process
  std::vector<float> mic_power_;
  std::vector<float> error_power_;
  std::vector<float> leak_num_;
  std::vector<float> leak_den_;
  std::vector<float> echo_leak_num_;  // the same, from blocks of echo alone (kEchoOnlyShare)
  std::vector<float> echo_leak_den_;
  std::vector<float> nl_num_;       // smoothed residual unexplained by the leakage
  std::vector<float> nl_power_;     // per-bin scratch: nonlinear residual estimate
  float nl_den_ = 0.0f;             // smoothed total echo estimate power
  std::vector<float> fallback_share_;  // error / fallback power, from 1, only falls
  std::vector<float> prev_near_;
  std::vector<std::complex<float>> near_spec_;
  std::vector<float> smm_;                 // smoothed |M|^2 (microphone)
  std::vector<std::complex<float>> smy_;   // smoothed M conj(Y)
  std::vector<float> prev_shadow_;
  std::vector<std::complex<float>> shadow_spec_;
  std::vector<float> sss_;                 // smoothed |S|^2 (background estimate)
  std::vector<std::complex<float>> sms_;   // smoothed M conj(S)
  int hangover_ = 0;
  int talk_blocks_ = 0;  // blocks since the current talk (with its hangover) began
  int episode_agree_ = 0;  // blocks of the current talk both detectors agreed on
  int episode_gap_ = 0;    // blocks without talk before the current talk began
  bool episode_heard_ = true;  // the energy detector found talk in a block of the current talk itself
  int since_agree_ = 1 << 20;  // blocks since both detectors last agreed
  int since_talk_ = 1 << 20;   // blocks since double talk last started or was renewed
  int since_confirmed_ = 1 << 20;  // blocks since the last block of confirmed talk (kConfirmedAgree)
  bool talker_heard_ = false;
  int talk_total_ = 0;              // blocks taken for talk (talk_now) since the reset, saturating
  float talk_incoherent_ = 0.0f;    // mic energy incoherent with the echo estimates, averaged over talk blocks
  float talk_coherent_ = 0.0f;      // and the coherent energy, over the same blocks
  float talk_echo_ = 0.0f;          // the filter-free echo prediction, averaged over the same blocks
  float loud_talk_peak_ = 0.0f;     // the largest ratio of mic power (the two above) to it, once
                                    // kUnderEchoTalkBlocks were found
  int quiet_hangover_run_ = 0;      // hangover blocks in a row neither detector takes for talk
  int echo_run_ = 0;  // blocks in a row of echo alone in the hangover (kEchoOnlyShare, kEchoExplained)
  float echo_slow_ = 0.0f;  // ~100 ms average of the echo estimate's total power (kEchoOnsetRise)
  float echo_peak_ = 0.0f;   // the highest echo_slow_ so far (kLoudOnsetRatio)
  bool loud_onset_ = false;  // the current echo onset rose over kLoudOnsetRatio x echo_peak_
  float shallow_cancel_ = 1.0f;  // error / echo estimate before any talk (kShallowCancel)
  float echo_prev_ = 0.0f;   // the echo estimate's total power one and two blocks ago
  float echo_prev2_ = 0.0f;  // (kMissedTalkRise)
  int onset_left_ = 0;      // blocks left of an echo onset's guard (kEchoOnsetBlocks)
  float leakage_ = 0.0f;
  float coherent_share_ = 1.0f;
  bool near_talk_ = false;
  float mean_gain_ = 1.0f;
  bool noise_init_ = false;
  bool favour_talker_ = false;
  int fit_force_ = -1;
  bool fit_record_ = false;
  std::vector<float> fit_rows_;
  std::int64_t blocks_ = 0;  // blocks since the reset (the fit's rows)
  const std::uint32_t seed_;
  std::uint32_t rng_;
};

}  // namespace voicecore::aec
