#include "voicecore/common/real_fft.h"

#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "voicecore/common/errors.h"

namespace voicecore {

namespace {
bool IsPowerOfTwo(std::size_t n) { return n >= 2 && (n & (n - 1)) == 0; }
}  // namespace

RealFft::RealFft(std::size_t size) : size_(size), half_(size / 2) {
  if (!IsPowerOfTwo(size)) {
    throw ConfigError("RealFft size must be a power of two >= 2, got " + std::to_string(size));
  }
  bit_reverse_.resize(half_);
  std::size_t bits = 0;
  while ((std::size_t{1} << bits) < half_) ++bits;
  for (std::size_t i = 0; i < half_; ++i) {
    std::size_t r = 0;
    for (std::size_t b = 0; b < bits; ++b) r |= ((i >> b) & 1U) << (bits - 1 - b);
    bit_reverse_[i] = r;
  }
  // Twiddles in double precision, then rounded once, so large sizes keep accuracy.
  twiddles_.resize(half_ / 2 + 1);
  for (std::size_t k = 0; k < twiddles_.size(); ++k) {
    const double a = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(half_);
    twiddles_[k] = {static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a))};
  }
  split_twiddles_.resize(half_ + 1);
  for (std::size_t k = 0; k <= half_; ++k) {
    const double a = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(size_);
    split_twiddles_[k] = {static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a))};
  }
  scratch_.resize(half_);
}

void RealFft::ComplexFft(std::complex<float>* data, bool inverse) const {
  const std::size_t n = half_;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = bit_reverse_[i];
    if (i < j) std::swap(data[i], data[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const std::size_t step = n / len;
    const std::size_t half_len = len / 2;
    for (std::size_t start = 0; start < n; start += len) {
      for (std::size_t k = 0; k < half_len; ++k) {
        std::complex<float> w = twiddles_[k * step];
        if (inverse) w = std::conj(w);
        const std::complex<float> odd = data[start + k + half_len] * w;
        const std::complex<float> even = data[start + k];
        data[start + k] = even + odd;
        data[start + k + half_len] = even - odd;
      }
    }
  }
}

void RealFft::Forward(const float* in, std::complex<float>* out) {
  // Pack even/odd samples as one half-length complex signal, transform once,
  // then split the spectra of the two real halves.
  for (std::size_t k = 0; k < half_; ++k) scratch_[k] = {in[2 * k], in[2 * k + 1]};
  ComplexFft(scratch_.data(), false);
  const std::complex<float> z0 = scratch_[0];
  out[0] = {z0.real() + z0.imag(), 0.0f};
  out[half_] = {z0.real() - z0.imag(), 0.0f};
  for (std::size_t k = 1; k < half_; ++k) {
    const std::complex<float> zk = scratch_[k];
    const std::complex<float> zc = std::conj(scratch_[half_ - k]);
    const std::complex<float> even = 0.5f * (zk + zc);
    const std::complex<float> odd = std::complex<float>(0.0f, -0.5f) * (zk - zc);
    out[k] = even + split_twiddles_[k] * odd;
  }
}

void RealFft::Inverse(const std::complex<float>* in, float* out) {
  for (std::size_t k = 0; k < half_; ++k) {
    const std::complex<float> xk = in[k];
    const std::complex<float> xc = std::conj(in[half_ - k]);
    const std::complex<float> even = 0.5f * (xk + xc);
    const std::complex<float> odd = 0.5f * (xk - xc) * std::conj(split_twiddles_[k]);
    scratch_[k] = even + std::complex<float>(0.0f, 1.0f) * odd;
  }
  // Bin 0 and N/2 are real for a real signal; use only their real parts.
  {
    const float x0 = in[0].real();
    const float xn = in[half_].real();
    scratch_[0] = {0.5f * (x0 + xn), 0.5f * (x0 - xn)};
  }
  ComplexFft(scratch_.data(), true);
  const float scale = 1.0f / static_cast<float>(half_);
  for (std::size_t k = 0; k < half_; ++k) {
    out[2 * k] = scratch_[k].real() * scale;
    out[2 * k + 1] = scratch_[k].imag() * scale;
  }
}

}  // namespace voicecore
