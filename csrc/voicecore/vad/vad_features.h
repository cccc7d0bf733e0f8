// Per-hop (10 ms) acoustic features for the frame VAD: sub-band SNRs against an
// adaptive noise floor, spectral flatness, periodicity (normalised
// autocorrelation at a 4 kHz decimated rate) and a few causal temporal summaries
// of them. The feature vector is the input of the small model in frame_vad.cc.
//
// Thread contract: one instance per audio stream; not thread-safe. The
// constructor allocates; Analyze() never allocates.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "voicecore/vad/power_spectrum.h"

namespace voicecore::vad {

inline constexpr int kNumBands = 6;
inline constexpr int kNumFeatures = 18;

class VadFeatures {
 public:
  // `sample_rate_hz` must be 8000, 16000, 32000 or 48000 (checked by FrameVad).
  explicit VadFeatures(int sample_rate_hz);
  VadFeatures(const VadFeatures&) = delete;
  VadFeatures& operator=(const VadFeatures&) = delete;

  // Consumes hop_size() samples (10 ms) and writes kNumFeatures values.
  void Analyze(const float* hop, float* features);
  void Reset();
  std::size_t hop_size() const { return hop_size_; }
  // The talker's recent peak level (the decaying peak of the fast full-band level)
  // over the noise floor, in dB, after the latest Analyze(); kNoTalkerSnrDb until a
  // talker has been heard (see peak_established_).
  float talker_snr_db() const { return talker_snr_db_; }
  static constexpr float kNoTalkerSnrDb = -100.0f;

 private:
  void UpdateNoiseFloor();
  float Periodicity(const float* hop);

  const int sample_rate_hz_;
  const std::size_t hop_size_;
  const std::size_t fft_size_;
  const std::size_t decimation_;  // input rate / 4 kHz
  PowerSpectrum spectrum_;
  std::vector<float> window_;         // Hann analysis window, fft_size_
  float window_power_ = 1.0f;         // sum of squared window taps
  std::vector<float> history_;        // last fft_size_ input samples
  std::vector<float> power_;          // |X[k]|^2, fft_size_/2 + 1 bins
  std::array<int, kNumBands + 1> band_edges_{};  // bin index edges; empty band if equal
  int flat_lo_ = 0, flat_hi_ = 0;     // bins of the 250-4000 Hz flatness range

  // Noise floor: minimum statistics over kSubblocks x kSubblockHops hops of a
  // recursively smoothed band power (Martin 2001, simplified: fixed smoothing and
  // a fixed bias), so it follows stationary and slowly varying noise but not
  // speech, which always has gaps within the 1.6 s window.
  static constexpr int kSubblocks = 8;
  static constexpr int kSubblockHops = 20;
  std::array<float, kNumBands> band_power_{};
  std::array<float, kNumBands> smoothed_power_{};
  std::array<float, kNumBands> noise_power_{};
  std::array<float, kNumBands> current_min_{};
  std::array<std::array<float, kNumBands>, kSubblocks> subblock_min_{};
  int subblock_fill_ = 0;   // hops in the current subblock
  int subblock_index_ = 0;  // ring position of the next finished subblock
  bool first_hop_ = true;

  // Periodicity at 4 kHz: 64-sample (16 ms) segment against lags 10..64
  // (400..62.5 Hz pitch).
  static constexpr int kPitchWindow = 64;
  static constexpr int kPitchMaxLag = 64;
  static constexpr int kPitchMinLag = 10;
  static constexpr int kPitchBuffer = kPitchWindow + kPitchMaxLag;
  std::array<float, kPitchBuffer> pitch_buffer_{};
  std::array<double, kPitchBuffer + 1> pitch_energy_prefix_{};
  float hp_prev_in_ = 0.0f, hp_prev_out_ = 0.0f;

  // Causal temporal summaries.
  float snr_fast_ = 0.0f, snr_slow_ = 0.0f, snr_peak_ = 0.0f, snr_long_ = 0.0f;
  float flatness_avg_ = 0.0f;
  float periodicity_avg_ = 0.0f, periodicity_peak_ = 0.0f;
  float prev_level_db_ = -100.0f;
  // Level against the loudest recent audio: a fast-smoothed full-band level and
  // its peak, which decays slowly (2 dB/s). Babble and other speech-like noise sit
  // well below the talker's own level at usable SNRs, while relative to the noise
  // floor (which the babble itself sets) they look like speech.
  // Until the level has stood kPeakMarginDb above the noise floor for
  // kPeakConfirmHops hops in a row, no talker has been heard and the peak is only
  // the loudest noise so far; the feature then reads a fixed neutral value (the
  // model learns what it means) rather than "at the peak", which in noise before
  // anyone speaks leaned to speech.
  float level_fast_db_ = -100.0f;
  float level_peak_db_ = -100.0f;
  int above_floor_hops_ = 0;
  bool peak_established_ = false;
  float talker_snr_db_ = kNoTalkerSnrDb;
};

}  // namespace voicecore::vad
