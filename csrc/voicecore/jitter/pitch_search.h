// Pitch-period search shared by time stretching and concealment. A coarse
// normalised-correlation search runs on a boxcar-decimated (~8 kHz) mono copy,
// then a refinement at the full rate around the coarse winner, so the cost stays
// a few microseconds at 48 kHz.
#pragma once

#include <vector>

namespace voicecore::jitter {

struct PitchResult {
  int lag = 0;             // samples at the full rate
  float correlation = 0;   // normalised, in [-1, 1]
  float energy = 0;        // mean square of the analysed segment
};

// Not thread-safe; owned by one JitterBuffer.
class PitchSearch {
 public:
  // `max_samples` bounds the mono signal length any Search call may pass.
  PitchSearch(int sample_rate_hz, int max_samples);
  PitchSearch(const PitchSearch&) = delete;
  PitchSearch& operator=(const PitchSearch&) = delete;

  // Finds lag in [min_lag, max_lag] maximising the normalised correlation of
  // x[s + i] and x[s + i + lag] for i in [0, window). Forward: s = 0 (compares the
  // start of x with what follows it). Backward: s = len - window - lag (compares
  // the end of x with the segment one lag earlier). `x` is mono, `len` samples;
  // len >= window + max_lag is the caller's duty.
  PitchResult Search(const float* x, int len, int min_lag, int max_lag, int window,
                     bool backward);

 private:
  const int decimation_;
  std::vector<float> coarse_;
};

}  // namespace voicecore::jitter
