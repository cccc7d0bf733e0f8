// Acoustic echo canceller: removes from the microphone signal the echo of what
// the agent played (the far end, or reference).
//
//   far  --PushFar-->  FIFO --> 4 ms blocks --> FFT --> FarSpectrumBuffer
//                                                        |        |
//   near --ProcessNear--> 4 ms blocks --> DelayEstimator  |  AdaptiveFilter x2
//                                          (bulk delay)-->+  (background adapts,
//                                                             foreground outputs)
//                          error, echo estimate --> ResidualSuppressor --> out
//
// Far and near are two sample streams aligned by sample count: every near
// block consumes one block of far samples from the FIFO. The far side may run
// ahead (the FIFO holds up to max_delay_ms plus one frame beyond that, and
// drops the oldest samples past that, counting them); if it starves, the
// missing far samples count as silence, so a stopped far stream never stalls
// the near path. Push each far frame no later than the near frame captured
// while it played; pushing later only adds bulk delay, which the delay
// estimator follows up to max_delay_ms.
//
// The foreground/background pair ("two-path", as in MDF): the background filter
// adapts with a proportionate NLMS step; the foreground filter produces the
// output and is replaced by the background when the background's error has been
// clearly smaller for a few blocks. A background that has diverged far beyond
// the foreground is reset to it. An energy double-talk detector that does not
// depend on the filters (mic power per bin against the far power times a learnt
// echo-return gain, EchoReturnGain) slows the background tenfold and blocks
// copies while the near end talks, so a talker cannot be fitted into the echo
// path; a block the filters already cancel by 6 dB or more is never taken for
// talk (the power predictor's false alarms fall there: clipping harmonics,
// misplaced onsets); an echo path change keeps the broadband gain, is not taken
// for double talk, and the background re-converges at full speed and takes
// over. Within a second of the detector's last talk, the background's step also
// follows the share of the mic coherent with the echo estimates, and per bin
// the share of its own error that the far end explains (the mic of a talker
// 10-15 dB under the echo is still mostly echo; his error is not), so a
// talker the detector misses (under the echo) still cannot pull the filter.
// Until the echo-return gain has had its first second of far speech, a warm-up
// detector takes its place from the delay's first lock: there the gain per
// bin is the regression slope of the mic power on the far power, which a
// talker present from the call's first words does not inflate (he does not
// follow the far end's fluctuations), so a user who barges in on the agent's
// first reply is not removed as echo.
//
// Delay changes: the estimator's first lock is taken directly; later changes
// are confirmed against the microphone while the foreground fails (see
// ConfirmDelay): a pure move of the echo shows as the microphone matching the
// foreground's echo estimate from N blocks ago (the window then moves by
// exactly N blocks and the coefficients stay), a move with a new room as the
// old delay over-predicting the microphone where the proposal does not.
// Near-end speech passes neither test, so long double talk cannot drag the
// estimate (and the filter window) away. Until a change is confirmed, a
// block whose foreground error is louder than the microphone (the estimate
// adds more echo than it removes), or, just after the filter cancelled well,
// near it and anti-correlated with the estimate (the old echo, which the mic
// no longer holds), is handled like call start: the suppressor
// gets the microphone and the filter-free fallback, and no double talk is
// claimed, so the output is never louder than the microphone (kWorseRatio).
//
// Clipping loudspeaker (clip_model, on by default; see ReferenceClipper):
// while the call runs, candidate clip levels are scored against the
// foreground's error; once one is adopted, every far block is clipped at it
// (and rescaled to the same power) before its FFT, so the filters model the
// echo of what the loudspeaker actually played. A one-second trial reverts a
// level that made the filter worse. While a level is modelled, the "lost"
// state and the rule that a well-cancelled block is never talk are off (both
// removed a talker under a clipped echo), and the energy detector takes talk
// from 5 dB over the predicted echo instead of 6 dB.
//
// Far low-band bursts (FarLowBand): the filters never learn the band below
// ~60 Hz, which speech barely excites, so the echo of a far burst there (a
// plosive's pop) reads as a talker to both detectors. While one can be
// echoing, the lowest bin is suppressed against the far power in it, in
// every talk state.
//
// Latency: one block of overlap-add in the suppressor plus the frame-to-block
// buffering (block - gcd(frame, block) samples): 6 ms for 10 ms frames at 8
// and 16 kHz.
//
// Thread contract: not thread-safe. PushFar, ProcessNear, stats and Reset must
// be serialised by the caller (the Python binding holds a mutex). Process paths
// never allocate.
#pragma once

#include <array>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "voicecore/aec/adaptive_filter.h"
#include "voicecore/aec/clock_drift.h"
#include "voicecore/aec/aec_kernels.h"
#include "voicecore/aec/delay_estimator.h"
#include "voicecore/aec/echo_move_check.h"
#include "voicecore/aec/far_low_band.h"
#include "voicecore/aec/echo_return_gain.h"
#include "voicecore/aec/far_spectrum_buffer.h"
#include "voicecore/aec/reference_clipper.h"
#include "voicecore/aec/residual_suppressor.h"
#include "voicecore/common/real_fft.h"

namespace voicecore::aec {

struct EchoCancellerStats {
  float delay_ms = 0.0f;       // bulk delay estimate; -1 before the first estimate
  float erle_db = 0.0f;        // smoothed mic / output power while the far end plays
  float linear_erle_db = 0.0f; // the same for the linear filter alone
  bool converged = false;
  bool double_talk = false;       // the suppressor's decision (both detectors agree)
  bool energy_double_talk = false;  // the energy detector alone (drives adaptation)
  float leakage = 1.0f;        // residual suppressor's leakage estimate
  std::uint64_t far_underrun_samples = 0;  // far samples the near side found missing
  std::uint64_t far_dropped_samples = 0;   // far samples dropped because the FIFO was full
  std::uint64_t blocks = 0;
  // Loudspeaker clip level found in the reference (see ReferenceClipper); 0
  // while none is adopted.
  float clip_level = 0.0f;
  // The best candidate level's correlation with the filter's error (0-1).
  float clip_correlation = 0.0f;
  // Clock drift of the echo path against the reference (see ClockDrift),
  // in ppm; 0 until one is measured and followed.
  float drift_ppm = 0.0f;
};

class EchoCanceller {
 public:
  // Throws ConfigError for unsupported parameters: sample_rate_hz in {8000,
  // 16000}; frame_ms in 1..40 with a whole number of samples; max_delay_ms in
  // 0..2000; tail_ms in 16..1000.
  // clip_model: look for a clipping loudspeaker and model it (ReferenceClipper).
  // favour_talker: in double talk, keep more of a talker the detectors miss
  // under the echo, at the cost of more echo where that fails (lower
  // thresholds for the missed-talk model: ResidualSuppressor,
  // kMissedTalkDoubleFavoured and kMissedTalkLoneFavoured).
  EchoCanceller(int sample_rate_hz, int frame_ms, int max_delay_ms, int tail_ms,
                bool clip_model = true, bool favour_talker = false);
  EchoCanceller(const EchoCanceller&) = delete;
  EchoCanceller& operator=(const EchoCanceller&) = delete;

  // `n` must be a positive multiple of frame_size(); samples finite. Throws
  // AudioFormatError otherwise (nothing is consumed then).
  void PushFar(const float* samples, std::size_t n);
  // Writes n samples (echo removed, latency_samples() late) to `out`. Same
  // rules for `n` as PushFar. `in` and `out` may alias.
  void ProcessNear(const float* in, float* out, std::size_t n);
  void Reset();

  EchoCancellerStats stats() const;
  int sample_rate_hz() const { return sample_rate_hz_; }
  std::size_t frame_size() const { return frame_size_; }
  std::size_t block_size() const { return block_size_; }
  std::size_t latency_samples() const { return prefill_ + block_size_; }
  std::size_t far_buffered() const { return far_count_; }
  // The offline fit's hooks (ResidualSuppressor::SetMissedTalkFit).
  void SetMissedTalkFit(int force, bool record) { suppressor_.SetMissedTalkFit(force, record); }
  std::vector<float> TakeMissedTalkRows() { return suppressor_.TakeMissedTalkRows(); }

 private:
  void CheckFrames(const float* samples, std::size_t n, const char* what) const;
  void ProcessBlock(const float* near, float* out);
  void TwoPathDecision(bool far_active, float fg_energy, float bg_energy);
  // The time-domain echo block of a filter's output spectrum (spec_ and time_ as scratch).
  void EchoFromSpectrum(const float* re, const float* im, float* echo);
  // See kSnapshotRatio. `near_energy`: the mic block's energy.
  void SnapshotStep(bool far_active, const FarSpan& span, const float* near, float near_energy);
  void UpdateCoherence(std::size_t lag0, std::size_t lags);
  void ExplainedShares(std::size_t lags);
  float ExplainedFraction() const;
  void StepClipModel();
  void UpdateStats();
  void UpdateOffset();
  void ConfirmDelay(const float* near, float near_energy, float error_energy);
  void TakeDelay(int delay_blocks);
  bool MicOverNoise() const;  // kMovedTalkNoiseRatio
  void RefineDelay();
  std::size_t OffsetFor(int delay_blocks) const;
  void SetPrior(std::size_t lead);

  const int sample_rate_hz_;
  const std::size_t frame_size_;
  const std::size_t block_size_;
  const std::size_t fft_size_;
  const std::size_t num_bins_;
  const std::size_t max_delay_blocks_;
  const std::size_t num_partitions_;
  const std::size_t prefill_;

  const AecKernels& kernels_;
  RealFft fft_;
  FarSpectrumBuffer far_spectra_;
  DelayEstimator delay_estimator_;
  AdaptiveFilter foreground_;
  AdaptiveFilter background_;
  ResidualSuppressor suppressor_;
  ReferenceClipper clipper_;
  ClockDrift drift_;
  // The filters as they were when a clip level was adopted: a revert
  // (ReferenceClipper::TrialVerdict) restores them (one partition each when
  // the clip model is off).
  AdaptiveFilter foreground_before_clip_;
  AdaptiveFilter background_before_clip_;
  // The foreground as it last stood while cancelling well in single talk (see
  // SnapshotStep): restored when it beats a foreground that a talk episode
  // left worse.
  AdaptiveFilter snapshot_;
  std::vector<float> snap_re_;
  std::vector<float> snap_im_;
  std::vector<float> echo_snap_;
  bool snapshot_valid_ = false;
  int snapshot_age_ = 0;  // far-active blocks since the snapshot was taken
  float smooth_snap_ = 0.0f;
  float smooth_snap_mic_ = 0.0f;
  int snap_better_runs_ = 0;

  // Far FIFO (ring).
  std::vector<float> far_fifo_;
  std::size_t far_read_ = 0;
  std::size_t far_count_ = 0;
  // Near block assembly and output FIFO (ring).
  std::vector<float> near_block_;
  std::size_t near_fill_ = 0;
  std::vector<float> out_fifo_;
  std::size_t out_read_ = 0;
  std::size_t out_count_ = 0;

  // Per-block scratch, allocated once.
  std::vector<float> far_block_;
  std::vector<float> far_prev_;
  std::vector<float> near_prev_;
  std::vector<float> time_;
  std::vector<std::complex<float>> spec_;
  // The microphone's spectrum of this block (ClockDrift reads it at the block's end).
  std::vector<std::complex<float>> near_spec_;
  std::vector<float> split_re_;
  std::vector<float> split_im_;
  std::vector<float> near_power_;
  std::vector<float> echo_fg_;
  std::vector<float> echo_bg_;
  std::vector<float> error_fg_;
  std::vector<float> error_bg_;
  std::vector<float> far_power_sum_;
  std::vector<float> far_power_prior_;
  std::vector<float> gain_re_;
  std::vector<float> gain_im_;
  std::vector<float> out_block_;
  std::vector<float> constrain_time_;
  std::vector<std::complex<float>> constrain_spec_;

  // Far spectra feeding each partition this block (the ring buffer's slots).
  std::vector<const float*> span_re_;
  std::vector<const float*> span_im_;
  std::vector<const float*> span_power_;
  std::vector<std::uint32_t> span_live_;  // partitions with far sound (FarSpan::live)
  std::vector<float> fg_re_;
  std::vector<float> fg_im_;
  std::vector<float> bg_re_;
  std::vector<float> bg_im_;

  std::vector<float> partition_weights_;
  std::vector<float> echo_power_;
  // Filter-free echo estimate for the suppressor while the filters learn: the
  // learnt echo-return gain times the far power over the span once the delay
  // is known, a fixed gain times a peak-held far power before that.
  std::vector<float> fallback_power_;
  std::vector<float> peak_far_;
  std::size_t fallback_far_blocks_ = 0;  // far-active blocks since the start
  // The energy double-talk detector's echo predictor (and the fallback's gain).
  EchoReturnGain echo_return_;
  int early_run_ = 0;     // consecutive blocks the warm-up detector found talk
  std::vector<float> near_smooth_;  // mic power per bin smoothed over ~3 blocks
  std::vector<float> near_noise_;   // its minimum-tracked floor
  std::vector<float> noise_floor_;  // kNoiseBias x near_noise_: added to echo predictions
  bool noise_init_ = false;
  int confirm_lag_ = -1;  // the delay candidate under test
  float confirm_mic_ = 0.0f;    // smoothed mic and foreground error energy
  float confirm_error_ = 0.0f;
  float confirm_over_ = 0.0f;
  float confirm_current_ = 0.0f;
  float confirm_candidate_ = 0.0f;
  float confirm_shape_ = 0.0f;  // flatness of the proposal's log ratio to the mic
  int confirm_blocks_ = 0;
  int talk_hangover_ = 0;
  // The energy detector's hangover as the suppressor sees it: it also runs
  // out while the far end is silent. A talker's hangover frozen over a far
  // pause would otherwise open the suppressor on the next far onset, before
  // any block could check it (s66_x05: 26.5 -> 40.3 dB). Adaptation keeps
  // talk_hangover_: holding the filters a few more blocks costs little.
  int suppress_hangover_ = 0;
  int since_talk_ = 0;  // far-active blocks since the energy detector last found talk
  bool energy_talk_ = false;
  bool hold_adapt_ = false;  // energy_talk_ outside the warm-up: slow the background
  int erl_blocks_ = 0;
  std::vector<float> prior_;
  std::size_t prior_lead_ = 0;
  std::vector<float> confirm_power_;  // the foreground's power estimate at the candidate
  std::vector<float> confirm_diff_;   // per-bin log ratio of the proposal to the mic
  std::vector<float> refine_energy_;  // foreground partition energies (RefineDelay)
  int refine_runs_ = 0;
  int refine_moved_ = 0;
  int edge_runs_ = 0;  // RefineDelay's checks in a row with the filter piled at its window's start
  EchoMoveCheck move_check_;  // ConfirmDelay's waveform test
  FarLowBand far_low_band_;

  std::size_t offset_ = 0;  // far blocks between the newest and partition 0
  int echo_moved_ = 0;      // blocks the echo moved in a confirmed delay change
  int retrain_blocks_ = 0;  // blocks left without energy double-talk detection
  int since_change_ = 0;    // blocks since the last confirmed delay change (capped)
  float smooth_fg_ = 0.0f;
  float smooth_bg_ = 0.0f;
  int bg_better_runs_ = 0;
  int bg_worse_runs_ = 0;
  std::vector<float> echo_none_;  // all zeros: the suppressor's "no filter" path
  int converged_hold_ = 0;        // far-active blocks left since linear ERLE > 10 dB
  int young_hold_ = 0;            // the same since linear ERLE > 6 dB before a talker
  int moved_talk_hold_ = 0;       // far blocks left without talk to the suppressor (kMovedTalkBlocks)
  float erle_before_talk_db_ = 0.0f;  // linear ERLE at the last block without talk
  float worse_fg_ = 0.0f;         // smoothed foreground error and mic energy (kWorseForget)
  float worse_mic_ = 0.0f;
  int strong_guard_ = 0;  // far blocks left of the strong-fit move's guard
  int move_guard_ = 0;    // far blocks left of the post-move talk guard
  int worse_hold_ = 0;            // blocks left without the energy detector
  // Linear ERLE (stats) of the last 25 blocks (100 ms), a ring: see kQuietLostErleDb.
  std::array<float, 25> erle_history_{};
  std::size_t erle_history_pos_ = 0;
  int quiet_lost_blocks_ = 0;  // blocks left of a moved-path episode (kQuietLostErleDb)
  // Smoothed error x estimate, estimate and error energies, mic energy (kDisplacedForget).
  float displaced_ey_ = 0.0f;
  float displaced_yy_ = 0.0f;
  float displaced_error_ = 0.0f;
  float displaced_mic_ = 0.0f;
  // Error-far coherence averages (kCoherenceGain): per lag and bin, the
  // cross-spectrum and far power; per bin, the error power.
  std::vector<float> coh_cross_re_;
  std::vector<float> coh_cross_im_;
  std::vector<float> coh_far_;
  std::vector<float> coh_error_;
  std::vector<float> coh_error_re_;  // scratch: this block's error spectrum, split
  std::vector<float> coh_error_im_;
  std::vector<float> coh_share_;     // scratch: ExplainedShares per bin
  bool filter_trusted_ = false;  // linear ERLE over kTrustErleDb since the last move (kCoherenceGain)
  float erle_mic_ = 0.0f;
  float erle_out_ = 0.0f;
  float erle_lin_ = 0.0f;
  EchoCancellerStats stats_;
};

}  // namespace voicecore::aec
