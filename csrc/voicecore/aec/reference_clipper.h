// Hammerstein front end for a clipping loudspeaker or amplifier.
//
// A loudspeaker driven into clipping plays clip(x, c) where the agent sent x.
// The echo is then linear in clip(x, c), not in x: the best linear filter from
// x leaves the clipped-off distortion in the error (about -8 dB of the echo at
// the corpus's 2x drive), which the suppressor can only remove by also
// removing a talker. Given the clipped reference at the true level instead,
// the canceller's median single-talk ERLE on 100 generated clipped
// double-talk rooms rose from 34.5 to 44.7 dB (near-end loss 1.88 -> 2.37 dB).
//
// On 15 generated sets (2232 echo rooms) the model, with the double-talk
// changes it needs (EchoCanceller), took the rooms below AEC3 by more than 3 dB
// from 65 to 47, double-talk rooms over 3 dB of near-end loss from 36 to 11
// of 894 (worst 5.49 -> 4.35 dB), and the corpus median single-talk ERLE from
// 44.2 to 47.4 dB; it is on by default (EchoCanceller clip_model).
//
// The level is found while the call runs. For each candidate level c_k (a
// log grid of absolute levels: an amplifier clips at a fixed digital level
// for a given volume) the clipped far signal gets its own spectrum history,
// and the foreground filter, learnt on x, is applied to it. The part of
// clip(x, c_k) that x does not explain (its projection on x removed),
// u_k = clip(x, c_k) - a_k x, passed through the filter, is what the
// foreground error should contain if the loudspeaker clips at c_k. The
// candidate whose filtered distortion correlates best with the foreground
// error over blocks of far-end single talk wins, if that correlation is
// clearly above chance (0.2, in two successive windows) while the filter
// still removes under 10 dB; a loudspeaker that does not clip leaves an error
// uncorrelated with every candidate (noise, misadjustment).
//
// Once a level is adopted the canceller feeds s * clip(x, c) everywhere x
// went, with s chosen so that the far power is unchanged (the echo-return
// gains and detectors learnt on x stay valid), and scales its filters by
// 1 / (a s) so the echo estimate is continuous. Calibration then stops, and
// so does its cost (one FFT, one filter pass and one inverse FFT per
// candidate per block); without an adoption it stops after 10 s of scored
// blocks.
//
// A trial follows (TrialVerdict): if the filter's single-talk error relative
// to the mic is 3 dB worse over the next second than just before, the level
// was wrong (a still-converging filter can correlate by chance): the raw far
// history and the filters from before the adoption are restored, and the
// model stays off for the call. At a 0.3 adoption threshold, before the
// kCappedRatio gate, this caught both false adoptions seen on the generated
// sets (s2601_x01: 37.9 -> 42.1 dB, default 46.2; s1709_x03: 7.8 ->
// 15.6 dB, default 15.3).
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <complex>
#include <cstdint>
#include <deque>
#include <cstddef>
#include <vector>

#include "voicecore/aec/adaptive_filter.h"
#include "voicecore/aec/far_spectrum_buffer.h"
#include "voicecore/common/real_fft.h"

namespace voicecore::aec {

class ReferenceClipper {
 public:
  // A disabled clipper never calibrates and allocates no histories.
  ReferenceClipper(std::size_t block_size, std::size_t depth, bool enabled);
  ReferenceClipper(const ReferenceClipper&) = delete;
  ReferenceClipper& operator=(const ReferenceClipper&) = delete;

  void Reset();
  bool calibrating() const { return calibrating_; }
  // Adopted and on trial (see TrialVerdict).
  bool on_trial() const { return trial_; }
  // Track is needed: calibrating or on trial.
  bool tracking() const { return calibrating_ || trial_; }
  // The last raw far block PushFar saw.
  const float* raw_prev() const { return prev_.data(); }
  bool active() const { return level_ > 0.0f; }
  // Adopted clip level (0 while none).
  float level() const { return level_; }
  // Best candidate's correlation so far (diagnostics).
  float best_correlation() const { return best_corr_; }

  // s * clip(x, c) in place, once a level is adopted.
  void Apply(float* block) const;
  // On trial: the raw far block (block_size samples), once per block.
  void PushRawFar(RealFft& fft, const float* block);
  // While calibrating: the raw far block and the spectrum of the raw window
  // (previous block and this one) that the canceller computed, once per block.
  // A candidate that clips no sample of the window gets that spectrum as is:
  // its window is the raw one to the bit, so an FFT of its own would give the
  // same bits (in speech most windows are under the higher levels).
  void PushCandidates(RealFft& fft, const float* block, const float* raw_re, const float* raw_im);
  // While calibrating: scores the candidates on this block. `error` and
  // `echo` are the foreground's time-domain error and echo estimate.
  void Score(const AdaptiveFilter& foreground, std::size_t offset, RealFft& fft, const float* error,
             const float* echo);
  // After enough scored blocks, decides. Returns true when a level was just
  // adopted: the caller then calls AdoptInto.
  bool Decide();
  // Rebuilds `far` from the adopted candidate's history (scaled by s) and
  // returns the factor 1 / (a s) for the filters. Keeps the raw history for
  // a revert.
  float AdoptInto(FarSpectrumBuffer& far);
  // While calibrating or on trial: the foreground error and mic energy of a
  // block of far-end single talk.
  void Track(float error_energy, float mic_energy);
  // The trial: the filter's single-talk error relative to the mic over the
  // 1 s after adoption (past a 200 ms settling time), against the same ratio
  // just before it. A level that made it 3 dB worse (kTrialWorse) was a
  // wrong adoption: returns -1 (revert), 1 (keep; the trial ends), 0
  // (undecided).
  int TrialVerdict();
  // Restores the raw far history into `far`; the clipper then stays off for
  // the rest of the call (the caller restores its filters).
  void RevertInto(FarSpectrumBuffer& far);

 private:
  struct Candidate {
    explicit Candidate(std::size_t bins, std::size_t depth) : history(bins, depth) {}
    float level = 0.0f;
    FarSpectrumBuffer history;
    double xz = 0.0;  // sum of x * clip(x, c) over far samples
    double zz = 0.0;  // sum of clip(x, c)^2
    double er = 0.0;  // sums over scored blocks: error x filtered distortion
    double rr = 0.0;
  };
  const std::size_t block_size_;
  const std::size_t num_bins_;
  const bool enabled_;
  std::deque<Candidate> candidates_;  // deque: a spectrum history cannot move
  std::vector<float> prev_;   // previous raw far block
  std::vector<float> time_;   // 2 blocks
  std::vector<std::complex<float>> spec_;
  std::vector<float> re_;
  std::vector<float> im_;
  // A candidate history's filter span (see FarSpectrumBuffer::Span).
  std::vector<const float*> span_re_;
  std::vector<const float*> span_im_;
  std::vector<const float*> span_power_;
  std::vector<std::uint32_t> span_live_;
  FarSpectrumBuffer raw_;  // raw far spectra while on trial
  bool trial_ = false;
  int trial_blocks_ = 0;
  double before_error_ = 0.0;  // decaying sums before adoption
  double before_mic_ = 0.0;
  double after_error_ = 0.0;   // sums over the trial
  double after_mic_ = 0.0;
  double xx_ = 0.0;  // sum of x^2 over far samples
  double ee_ = 0.0;  // sum of error^2 over scored blocks
  int scored_ = 0;        // blocks in the current test
  int total_scored_ = 0;
  bool calibrating_ = true;
  float level_ = 0.0f;
  float scale_ = 1.0f;
  float alpha_ = 1.0f;
  int adopted_ = -1;
  int first_pass_ = -1;  // candidate that passed the first test
  float best_corr_ = 0.0f;
};

}  // namespace voicecore::aec
