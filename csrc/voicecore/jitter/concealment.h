// Generic packet-loss concealment for codecs without their own PLC (raw L16).
// It repeats the last pitch period of the played audio (a longer segment when the
// audio is unvoiced, to avoid a buzz), holds it briefly, then fades it into
// comfort noise at the measured background level. When real audio resumes, the
// JitterBuffer crossfades a few milliseconds of this continuation into it.
#pragma once

#include <cstdint>
#include <vector>

#include "voicecore/jitter/pitch_search.h"

namespace voicecore::jitter {

// Not thread-safe; owned by one JitterBuffer. Never allocates after construction.
class Concealment {
 public:
  Concealment(int sample_rate_hz, int num_channels);
  Concealment(const Concealment&) = delete;
  Concealment& operator=(const Concealment&) = delete;

  // Starts a concealment episode continuing `history` (interleaved, `len`
  // samples per channel, the most recent last).
  void Begin(const float* history, int len);
  // Writes the next `n` interleaved samples per channel of the continuation.
  void Generate(float* out, int n);
  // Background level (RMS) the concealment fades to.
  void set_noise_rms(float rms) { noise_rms_ = rms; }
  // Samples per channel of history Begin() can use.
  int history_samples() const { return history_samples_; }
  // Samples per channel generated since Begin().
  int64_t position() const { return position_; }
  void Reset();

 private:
  float NextNoise();

  const int num_channels_;
  const int min_lag_;
  const int max_lag_;
  const int window_;
  const int history_samples_;
  const int hold_samples_;
  const int voiced_fade_samples_;
  const int unvoiced_fade_samples_;
  std::vector<float> mono_;
  std::vector<float> period_;   // interleaved, period_len_ samples per channel
  std::vector<float> offset_;   // per channel: step correction at the junction
  PitchSearch search_;
  int period_len_ = 0;
  int fade_samples_ = 1;
  int junction_samples_ = 1;
  int64_t position_ = 0;
  float noise_rms_ = 0.0f;
  uint32_t rng_ = 0x9e3779b9u;
};

}  // namespace voicecore::jitter
