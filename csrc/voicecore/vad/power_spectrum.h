// Windowed power spectrum of a real power-of-two block, specialised for the
// VAD's hot path. voicecore::RealFft (common/real_fft.h) is the general
// transform, but its std::complex arithmetic (array-of-structs, NaN-checked
// complex multiplies) cost about 3 us per 256-point transform here, more than
// the whole per-frame budget of the VAD. This one keeps real and imaginary
// parts in separate arrays with per-stage contiguous twiddles, so the
// butterflies vectorise, and returns |X[k]|^2 directly.
//
// Thread contract: one instance per stream; not thread-safe. The constructor
// allocates; Compute() never allocates.
#pragma once

#include <cstddef>
#include <vector>

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
  std::size_t size() const { return size_; }

 private:
  const std::size_t size_;
  const std::size_t half_;
  std::vector<std::size_t> bit_reverse_;
  std::vector<float> stage_cos_, stage_sin_;  // all stages back to back
  std::vector<float> split_cos_, split_sin_;  // e^{-2 pi i k / size}, k < half
  std::vector<float> re_, im_;
};

}  // namespace voicecore::vad
