// Quality presets of the resampler. Figures are fractions of the lower of the
// two Nyquist frequencies; the measured passband edge, stopband attenuation
// and latency of each preset are reported by bench/eval_resample.py.
#pragma once

#include <string>
#include <string_view>

namespace voicecore::resample {

enum class Quality { kQuick, kMedium, kHigh, kVeryHigh };

struct QualitySpec {
  const char* name;
  // Design passband edge (the measured 0.01 dB edge lies a little above it,
  // because a Kaiser design's ripple at this edge is ~10^(-A/20)).
  double passband_edge;
  // Stopband edge; 1.0 puts it exactly at the lower Nyquist (alias free).
  double stopband_edge;
  // Kaiser design attenuation in dB (sets beta and the filter length).
  double attenuation_db;
  // Coefficients, history and accumulation in double (very_high only).
  bool double_precision;
  // Grid size of the interpolated coefficient mode (rare rate pairs only).
  int interp_phases;
};

const QualitySpec& SpecFor(Quality quality);
// Parses "quick" | "medium" | "high" | "very_high"; throws ConfigError.
Quality ParseQuality(std::string_view name);
std::string QualityName(Quality quality);

}  // namespace voicecore::resample
