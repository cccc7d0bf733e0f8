#include "voicecore/vad/power_spectrum.h"

namespace voicecore::vad {

PowerSpectrum::PowerSpectrum(std::size_t size)
    : fft_(size), windowed_(size), spectrum_(fft_.num_bins()) {}

void PowerSpectrum::Compute(const float* in, const float* window, float* power) {
  const std::size_t n = fft_.size();
  for (std::size_t i = 0; i < n; ++i) windowed_[i] = in[i] * window[i];
  fft_.Forward(windowed_.data(), spectrum_.data());
  const float* x = reinterpret_cast<const float*>(spectrum_.data());  // float[2] per bin
  for (std::size_t k = 0; k < spectrum_.size(); ++k) {
    power[k] = x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1];
  }
}

}  // namespace voicecore::vad
