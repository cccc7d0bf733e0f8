// Windowed power spectrum of a real power-of-two block, the VAD's per-frame
// transform, over the shared voicecore::RealFft.
//
// Thread contract: one instance per stream; not thread-safe. The constructor
// allocates; Compute() never allocates.
#pragma once

#include <complex>
#include <cstddef>
#include <vector>

#include "voicecore/common/real_fft.h"

namespace voicecore::vad {

class PowerSpectrum {
 public:
  // `size` is a power of two >= 8 (checked by the caller).
  explicit PowerSpectrum(std::size_t size);
  PowerSpectrum(const PowerSpectrum&) = delete;
  PowerSpectrum& operator=(const PowerSpectrum&) = delete;

  // in: size() samples, window: size() taps; power: size()/2 + 1 bins of
  // |sum_n in[n] window[n] e^{-2 pi i k n / N}|^2.
  void Compute(const float* in, const float* window, float* power);
  std::size_t size() const { return fft_.size(); }

 private:
  RealFft fft_;
  std::vector<float> windowed_;
  std::vector<std::complex<float>> spectrum_;
};

}  // namespace voicecore::vad
