#include "voicecore/jitter/time_stretch.h"

#include <algorithm>
#include <cstring>

namespace voicecore::jitter {
namespace {

// Below this mean square (about -50 dBFS) any lag is acceptable: there is
// nothing audible to distort.
constexpr float kSilenceMeanSquare = 1e-5f;
// Periods must match this well before one is removed or repeated (NetEq uses
// similar figures); below it the frame plays unchanged and the next one tries.
constexpr float kMinCorrelation = 0.75f;

}  // namespace

TimeStretch::TimeStretch(int sample_rate_hz, int num_channels)
    : num_channels_(num_channels),
      min_lag_(sample_rate_hz / 400),          // 2.5 ms
      max_lag_(sample_rate_hz * 15 / 1000),    // 15 ms
      window_(sample_rate_hz / 100),           // 10 ms analysis window
      mono_(static_cast<std::size_t>(sample_rate_hz / 10)),
      search_(sample_rate_hz, sample_rate_hz / 10) {}

PitchResult TimeStretch::Analyse(const float* x, int len) {
  len = std::min(len, static_cast<int>(mono_.size()));
  const int ch = num_channels_;
  if (ch == 1) {
    std::memcpy(mono_.data(), x, sizeof(float) * static_cast<std::size_t>(len));
  } else {
    const float inv = 1.0f / static_cast<float>(ch);
    for (int i = 0; i < len; ++i) {
      float s = 0;
      for (int c = 0; c < ch; ++c) s += x[i * ch + c];
      mono_[static_cast<std::size_t>(i)] = s * inv;
    }
  }
  const int hi = std::min(max_lag_, len / 2);
  if (hi < min_lag_) return {};
  const int window = std::min(window_, len - hi);
  if (window < min_lag_) return {};
  return search_.Search(mono_.data(), len, min_lag_, hi, window, /*backward=*/false);
}

bool TimeStretch::Acceptable(const PitchResult& r, float noise_rms, float min_correlation) const {
  if (r.lag <= 0) return false;
  const float quiet = std::max(kSilenceMeanSquare, 4.0f * noise_rms * noise_rms);
  return r.energy < quiet || r.correlation >= min_correlation;
}

int TimeStretch::Accelerate(float* x, int len, float noise_rms) {
  PitchResult r = Analyse(x, len);
  if (!Acceptable(r, noise_rms, kMinCorrelation)) return 0;
  int t = r.lag;
  if (r.correlation < kMinCorrelation) t = std::min(max_lag_, len / 2);  // quiet: drain the most
  const int ch = num_channels_;
  const float inv = 1.0f / static_cast<float>(t);
  for (int n = 0; n < t; ++n) {
    const float w = (static_cast<float>(n) + 0.5f) * inv;  // 0 -> 1: into the later period
    for (int c = 0; c < ch; ++c) {
      float& later = x[(n + t) * ch + c];
      later = x[n * ch + c] * (1.0f - w) + later * w;
    }
  }
  return t;
}

int TimeStretch::Decelerate(float* x, int len, float noise_rms) {
  PitchResult r = Analyse(x, len);
  if (!Acceptable(r, noise_rms, kMinCorrelation)) return 0;
  const int t = r.lag;
  const int ch = num_channels_;
  float* dst = x - static_cast<std::ptrdiff_t>(t) * ch;
  // Output becomes x[0,T) ++ z ++ x[T,...), where z fades from x[T,2T) (the
  // natural continuation) back into x[0,T) (a repeat of the period).
  std::memmove(dst, x, sizeof(float) * static_cast<std::size_t>(t * ch));
  const float inv = 1.0f / static_cast<float>(t);
  for (int n = 0; n < t; ++n) {
    const float w = (static_cast<float>(n) + 0.5f) * inv;
    for (int c = 0; c < ch; ++c) {
      x[n * ch + c] = x[(n + t) * ch + c] * (1.0f - w) + dst[n * ch + c] * w;
    }
  }
  return t;
}

}  // namespace voicecore::jitter
