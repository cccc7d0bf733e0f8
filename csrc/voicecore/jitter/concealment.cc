#include "voicecore/jitter/concealment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace voicecore::jitter {
namespace {

// Below this correlation the last period is not a pitch period: repeat a longer
// segment and fade faster (G.711 Appendix I and NetEq treat unvoiced audio so).
constexpr float kVoicedCorrelation = 0.5f;

}  // namespace

Concealment::Concealment(int sample_rate_hz, int num_channels)
    : num_channels_(num_channels),
      min_lag_(sample_rate_hz / 400),               // 2.5 ms
      max_lag_(sample_rate_hz * 15 / 1000),         // 15 ms
      window_(sample_rate_hz * 10 / 1000),          // 10 ms
      history_samples_(sample_rate_hz * 10 / 1000 + sample_rate_hz * 15 / 1000),
      hold_samples_(sample_rate_hz * 20 / 1000),    // full level for 20 ms
      voiced_fade_samples_(sample_rate_hz * 60 / 1000),
      unvoiced_fade_samples_(sample_rate_hz * 30 / 1000),
      mono_(static_cast<std::size_t>(history_samples_)),
      period_(static_cast<std::size_t>(max_lag_ * num_channels)),
      offset_(static_cast<std::size_t>(num_channels)),
      search_(sample_rate_hz, history_samples_) {}

void Concealment::Reset() {
  period_len_ = 0;
  position_ = 0;
  noise_rms_ = 0.0f;
  rng_ = 0x9e3779b9u;
}

void Concealment::Begin(const float* history, int len) {
  position_ = 0;
  period_len_ = 0;
  std::fill(offset_.begin(), offset_.end(), 0.0f);
  const int ch = num_channels_;
  len = std::min(len, history_samples_);
  const float* h = history;  // caller passes the last `len` samples
  if (len < min_lag_ * 2) return;
  for (int i = 0; i < len; ++i) {
    float s = 0;
    for (int c = 0; c < ch; ++c) s += h[i * ch + c];
    mono_[static_cast<std::size_t>(i)] = s / static_cast<float>(ch);
  }
  const int hi = std::min(max_lag_, len - min_lag_);
  const int window = std::min(window_, len - hi);
  PitchResult r = search_.Search(mono_.data(), len, min_lag_, hi, window, /*backward=*/true);
  int lag = r.lag;
  fade_samples_ = voiced_fade_samples_;
  if (lag <= 0 || r.correlation < kVoicedCorrelation) {
    lag = std::min(max_lag_, len);
    fade_samples_ = unvoiced_fade_samples_;
  }
  period_len_ = lag;
  std::memcpy(period_.data(), h + static_cast<std::ptrdiff_t>(len - lag) * ch,
              sizeof(float) * static_cast<std::size_t>(lag * ch));
  // Make the period loop smoothly (G.711 Appendix I's trick): its last quarter
  // is blended into the quarter period that precedes it in the history, whose
  // end flows naturally into the period's first sample.
  const int ola = std::min(lag / 4, len - lag - 1);
  for (int i = 0; i < ola; ++i) {
    const float w = (static_cast<float>(i) + 0.5f) / static_cast<float>(ola);
    for (int c = 0; c < ch; ++c) {
      float& v = period_[static_cast<std::size_t>((lag - ola + i) * ch + c)];
      v = v * (1.0f - w) + h[(len - lag - ola + i) * ch + c] * w;
    }
  }
  // The repeat starts at h[len - lag]; the sample before it was h[len - lag - 1]
  // but the listener just heard h[len - 1]. Adding that mismatch and letting it
  // decay over half a period keeps the junction as smooth as the signal itself.
  junction_samples_ = std::max(1, lag / 2);
  for (int c = 0; c < ch; ++c) {
    const float before = len > lag ? h[(len - lag - 1) * ch + c] : h[(len - lag) * ch + c];
    offset_[static_cast<std::size_t>(c)] = h[(len - 1) * ch + c] - before;
  }
}

float Concealment::NextNoise() {
  rng_ = rng_ * 1664525u + 1013904223u;
  // Uniform in [-1, 1) scaled to unit variance.
  return (static_cast<float>(rng_ >> 8) * (1.0f / 8388608.0f) - 1.0f) * 1.7320508f;
}

void Concealment::Generate(float* out, int n) {
  const int ch = num_channels_;
  for (int i = 0; i < n; ++i, ++position_) {
    float g = 0.0f;
    if (period_len_ > 0) {
      const int64_t past_hold = position_ - hold_samples_;
      g = past_hold <= 0 ? 1.0f
                         : std::max(0.0f, 1.0f - static_cast<float>(past_hold) /
                                                     static_cast<float>(fade_samples_));
    }
    const int idx = period_len_ > 0 ? static_cast<int>(position_ % period_len_) : 0;
    const float junction = position_ < junction_samples_
                               ? 1.0f - static_cast<float>(position_) / static_cast<float>(junction_samples_)
                               : 0.0f;
    for (int c = 0; c < ch; ++c) {
      float periodic = g > 0.0f ? period_[static_cast<std::size_t>(idx * ch + c)] : 0.0f;
      periodic += junction * offset_[static_cast<std::size_t>(c)];
      out[i * ch + c] = g * periodic + (1.0f - g) * noise_rms_ * NextNoise();
    }
  }
}

}  // namespace voicecore::jitter
