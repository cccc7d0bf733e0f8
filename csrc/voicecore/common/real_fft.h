// Compact real-input FFT for power-of-two sizes, shared by the kernels (the echo
// canceller runs about eleven per 4 ms block, the VAD one per frame). Real and
// imaginary parts live in split arrays and the complex arithmetic is spelled
// out: the butterflies then vectorise, and there are none of the NaN-checking
// library calls that std::complex multiplication compiles to without
// -ffast-math (they made an array-of-structs version about 1.4x slower at 128
// points). From 32 points up the passes run four lanes at a time (vec4.h),
// each value through the same operations in the same order as in the scalar
// passes (used below 32 points), so the results are the scalar code's bits.
// Tables are built in the constructor; Forward/Inverse never allocate.
//
// Thread contract: not thread-safe (scratch buffers); one instance per owner.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace voicecore {

class RealFft {
 public:
  // `size`: a power of two >= 2; throws ConfigError otherwise.
  explicit RealFft(std::size_t size);
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  std::size_t size() const { return size_; }
  std::size_t num_bins() const { return half_ + 1; }

  // Unnormalised forward transform (X[k] = sum_n x[n] e^{-2 pi i k n / N}):
  // `in` size() samples, `out` num_bins() bins.
  void Forward(const float* in, std::complex<float>* out);
  // Forward, but an all-zero input (a silent block) gives the all-zero
  // spectrum, which is what Forward computes, without transforming it.
  void ForwardOrZero(const float* in, std::complex<float>* out);
  // Inverse, scaled so that Inverse(Forward(x)) == x. The imaginary parts of
  // bins 0 and size()/2 are ignored.
  void Inverse(const std::complex<float>* in, float* out);

 private:
  // Scalar path (half_ < 16): in-place complex FFT of length half_ on
  // (re_, im_), input in bit-reversed order. `inverse` conjugates the
  // twiddles.
  void Transform(bool inverse);
  // Vector path (half_ >= 16). FirstPass reads `src` (half_ complex values,
  // interleaved, natural order) in bit-reversed order and applies the first
  // two radix-2 stages as one radix-4 step, writing re_/im_; Stages runs the
  // rest in place.
  void FirstPass(const float* src, bool inverse);
  void Stages(bool inverse);
  void InverseVector(const float* x, float* out);

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
  // The vector path's inverse: natural-order scratch (half_ complex values).
  std::vector<float> scratch_;
};

}  // namespace voicecore
