#include "voicecore/vad/power_spectrum.h"

#include <cmath>
#include <numbers>

namespace voicecore::vad {

PowerSpectrum::PowerSpectrum(std::size_t size)
    : size_(size), half_(size / 2), bit_reverse_(size / 2), re_(size / 2), im_(size / 2) {
  std::size_t bits = 0;
  while ((std::size_t{1} << bits) < half_) ++bits;
  for (std::size_t i = 0; i < half_; ++i) {
    std::size_t r = 0;
    for (std::size_t b = 0; b < bits; ++b) r |= ((i >> b) & 1U) << (bits - 1 - b);
    bit_reverse_[i] = r;
  }
  for (std::size_t len = 2; len <= half_; len <<= 1) {
    for (std::size_t k = 0; k < len / 2; ++k) {
      const double a = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(len);
      stage_cos_.push_back(static_cast<float>(std::cos(a)));
      stage_sin_.push_back(static_cast<float>(std::sin(a)));
    }
  }
  for (std::size_t k = 0; k < half_; ++k) {
    const double a = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(size_);
    split_cos_.push_back(static_cast<float>(std::cos(a)));
    split_sin_.push_back(static_cast<float>(std::sin(a)));
  }
}

void PowerSpectrum::Compute(const float* in, const float* window, float* power) {
  float* __restrict re = re_.data();
  float* __restrict im = im_.data();
  // Even samples as real part, odd as imaginary: one half-length complex FFT.
  for (std::size_t n = 0; n < half_; ++n) {
    const std::size_t j = bit_reverse_[n];
    re[j] = in[2 * n] * window[2 * n];
    im[j] = in[2 * n + 1] * window[2 * n + 1];
  }
  std::size_t tw = 0;
  for (std::size_t len = 2; len <= half_; len <<= 1) {
    const std::size_t h = len / 2;
    const float* __restrict wc = stage_cos_.data() + tw;
    const float* __restrict ws = stage_sin_.data() + tw;
    for (std::size_t start = 0; start < half_; start += len) {
      float* __restrict ar = re + start;
      float* __restrict ai = im + start;
      float* __restrict br = re + start + h;
      float* __restrict bi = im + start + h;
      for (std::size_t k = 0; k < h; ++k) {
        const float tr = br[k] * wc[k] - bi[k] * ws[k];
        const float ti = br[k] * ws[k] + bi[k] * wc[k];
        br[k] = ar[k] - tr;
        bi[k] = ai[k] - ti;
        ar[k] += tr;
        ai[k] += ti;
      }
    }
    tw += h;
  }
  // Split the two interleaved real spectra (X = E + W^k O).
  power[0] = (re[0] + im[0]) * (re[0] + im[0]);
  power[half_] = (re[0] - im[0]) * (re[0] - im[0]);
  for (std::size_t k = 1; k < half_; ++k) {
    const std::size_t m = half_ - k;
    const float er = 0.5f * (re[k] + re[m]);
    const float ei = 0.5f * (im[k] - im[m]);
    const float orr = 0.5f * (im[k] + im[m]);
    const float oi = -0.5f * (re[k] - re[m]);
    const float c = split_cos_[k], s = split_sin_[k];
    const float xr = er + c * orr - s * oi;
    const float xi = ei + c * oi + s * orr;
    power[k] = xr * xr + xi * xi;
  }
}

}  // namespace voicecore::vad
