#include "voicecore/jitter/pitch_search.h"

#include <algorithm>
#include <cmath>

namespace voicecore::jitter {
namespace {

// Normalised correlation of a[0..n) and b[0..n).
float NormCorr(const float* a, const float* b, int n, float* energy_a) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  if (energy_a) *energy_a = static_cast<float>(aa / std::max(n, 1));
  const double den = std::sqrt(aa * bb);
  return den > 1e-12 ? static_cast<float>(ab / den) : 0.0f;
}

}  // namespace

PitchSearch::PitchSearch(int sample_rate_hz, int max_samples)
    : decimation_(std::max(1, sample_rate_hz / 8000)),
      coarse_(static_cast<std::size_t>(max_samples / std::max(1, sample_rate_hz / 8000) + 1)) {}

PitchResult PitchSearch::Search(const float* x, int len, int min_lag, int max_lag, int window,
                                bool backward) {
  PitchResult best;
  if (min_lag < 1 || max_lag < min_lag || window < 1 || len < window + max_lag) return best;
  const int d = decimation_;
  // Window start for a lag: forward analyses from 0, backward ends at len.
  auto start = [&](int lag) { return backward ? len - window - lag : 0; };

  int coarse_best = min_lag;
  if (d > 1 && (max_lag - min_lag) > 2 * d) {
    const int n = len / d;
    const float inv = 1.0f / static_cast<float>(d);
    for (int i = 0; i < n; ++i) {
      float s = 0;
      for (int k = 0; k < d; ++k) s += x[i * d + k];
      coarse_[static_cast<std::size_t>(i)] = s * inv;
    }
    const int lo = (min_lag + d - 1) / d, hi = max_lag / d, win = std::max(1, window / d);
    float best_c = -2.0f;
    for (int lag = lo; lag <= hi; ++lag) {
      const int s = backward ? n - win - lag : 0;
      if (s < 0 || s + win + lag > n) continue;
      const float c = NormCorr(&coarse_[static_cast<std::size_t>(s)],
                               &coarse_[static_cast<std::size_t>(s + lag)], win, nullptr);
      if (c > best_c) {
        best_c = c;
        coarse_best = lag * d;
      }
    }
  }
  // Refine at the full rate (or search everything when not decimating).
  int lo = min_lag, hi = max_lag;
  if (d > 1 && (max_lag - min_lag) > 2 * d) {
    lo = std::max(min_lag, coarse_best - d);
    hi = std::min(max_lag, coarse_best + d);
  }
  best.correlation = -2.0f;
  for (int lag = lo; lag <= hi; ++lag) {
    const int s = start(lag);
    float energy = 0;
    const float c = NormCorr(x + s, x + s + lag, window, &energy);
    if (c > best.correlation) {
      best.correlation = c;
      best.lag = lag;
      best.energy = energy;
    }
  }
  return best;
}

}  // namespace voicecore::jitter
