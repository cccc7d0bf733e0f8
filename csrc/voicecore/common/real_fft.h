// Compact real-input FFT for power-of-two sizes, shared by the kernels (AEC, VAD,
// time-stretching). Tables are built in the constructor; Forward/Inverse never
// allocate. One instance may be shared by readers on one thread only (it keeps a
// scratch buffer).
#pragma once

#include <complex>
#include <cstddef>
#include <vector>

namespace voicecore {

class RealFft {
 public:
  // `size` must be a power of two >= 2; throws ConfigError otherwise.
  explicit RealFft(std::size_t size);
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  std::size_t size() const { return size_; }
  std::size_t num_bins() const { return size_ / 2 + 1; }

  // in: size() real samples; out: num_bins() bins, unnormalised
  // (X[k] = sum_n x[n] e^{-2 pi i k n / N}).
  void Forward(const float* in, std::complex<float>* out);
  // in: num_bins() bins of a real signal; out: size() samples, scaled so that
  // Inverse(Forward(x)) == x. The imaginary parts of bin 0 and bin N/2 are ignored.
  void Inverse(const std::complex<float>* in, float* out);

 private:
  // In-place unnormalised complex FFT of length half_ on scratch_; `inverse`
  // flips the sign of the exponent.
  void ComplexFft(std::complex<float>* data, bool inverse) const;

  const std::size_t size_;
  const std::size_t half_;
  std::vector<std::size_t> bit_reverse_;
  std::vector<std::complex<float>> twiddles_;        // e^{-2 pi i k / half}, k < half/2
  std::vector<std::complex<float>> split_twiddles_;  // e^{-2 pi i k / size}, k <= half
  std::vector<std::complex<float>> scratch_;
};

}  // namespace voicecore
