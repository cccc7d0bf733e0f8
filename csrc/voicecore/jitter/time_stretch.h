// Pitch-synchronous overlap-add time stretching (WSOLA-like) on the decoded audio
// ahead of the playout point. Accelerate removes one pitch period by crossfading
// it into the next; decelerate inserts one by crossfading back into the previous
// period. Both act only where the two periods correlate well (voiced speech) or
// where the signal is near the noise floor, which keeps them inaudible on speech.
#pragma once

#include <vector>

#include "voicecore/jitter/pitch_search.h"

namespace voicecore::jitter {

// Not thread-safe; owned by one JitterBuffer. Never allocates after construction.
class TimeStretch {
 public:
  TimeStretch(int sample_rate_hz, int num_channels);
  TimeStretch(const TimeStretch&) = delete;
  TimeStretch& operator=(const TimeStretch&) = delete;

  // `x` holds `len` interleaved samples per channel. On success writes the
  // crossfade into x[T, 2T) and returns T: the caller drops x[0, T). Returns 0
  // when no suitable period was found (the caller plays normally).
  int Accelerate(float* x, int len, float noise_rms);

  // `x` holds `len` interleaved samples per channel and x[-max_lag(), 0) must be
  // writable. On success the audio starts at x - T (T samples longer) and T is
  // returned; 0 when nothing suitable was found.
  int Decelerate(float* x, int len, float noise_rms);

  int min_lag() const { return min_lag_; }
  int max_lag() const { return max_lag_; }

 private:
  // Mono copy of x[0, len) into mono_; returns the pitch search result for lags
  // up to len / 2.
  PitchResult Analyse(const float* x, int len);
  bool Acceptable(const PitchResult& r, float noise_rms, float min_correlation) const;

  const int num_channels_;
  const int min_lag_;
  const int max_lag_;
  const int window_;
  std::vector<float> mono_;
  PitchSearch search_;
};

}  // namespace voicecore::jitter
