// Real FFT for the echo canceller's small power-of-two sizes (64..256), with the
// same interface and scaling as voicecore::RealFft. The canceller runs about
// eleven transforms per 4 ms block, so they dominate its cost; this version
// keeps real and imaginary parts in split arrays and spells out the complex
// arithmetic, which the compiler vectorises and which avoids the NaN-checking
// library calls that std::complex multiplication compiles to without
// -ffast-math.
//
// Thread contract: not thread-safe (scratch buffers); one instance per owner.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace voicecore {

class AecRealFft {
 public:
  // `size`: a power of two >= 4; throws ConfigError otherwise.
  explicit AecRealFft(std::size_t size);
  AecRealFft(const AecRealFft&) = delete;
  AecRealFft& operator=(const AecRealFft&) = delete;

  std::size_t size() const { return size_; }
  std::size_t num_bins() const { return half_ + 1; }

  // Unnormalised forward transform: `in` size() samples, `out` num_bins() bins.
  void Forward(const float* in, std::complex<float>* out);
  // Inverse, scaled so that Inverse(Forward(x)) == x. The imaginary parts of
  // bins 0 and size()/2 are ignored.
  void Inverse(const std::complex<float>* in, float* out);

 private:
  // In-place complex FFT of length half_ on (re_, im_), input in bit-reversed
  // order. `inverse` conjugates the twiddles.
  void Transform(bool inverse);

  const std::size_t size_;
  const std::size_t half_;
  std::vector<std::uint32_t> bit_reverse_;
  std::vector<float> tw_re_;     // per stage m: cos(pi k / m), k < m, at [m - 1 + k]
  std::vector<float> tw_im_;     // per stage m: -sin(pi k / m)
  std::vector<float> tw_im_conj_;  // sin(pi k / m), for the inverse
  std::vector<float> split_re_;  // cos(2 pi k / size), k <= half
  std::vector<float> split_im_;  // -sin(2 pi k / size)
  std::vector<float> re_;
  std::vector<float> im_;
};

}  // namespace voicecore
