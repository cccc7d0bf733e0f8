#include "voicecore/common/real_fft.h"

#include <cmath>
#include <numbers>
#include <string>

#include "voicecore/common/errors.h"

namespace voicecore {

RealFft::RealFft(std::size_t size) : size_(size), half_(size / 2) {
  if (size < 2 || (size & (size - 1)) != 0) {
    throw ConfigError("RealFft size must be a power of two >= 2, got " + std::to_string(size));
  }
  std::size_t bits = 0;
  while ((std::size_t{1} << bits) < half_) ++bits;
  bit_reverse_.resize(half_);
  for (std::size_t i = 0; i < half_; ++i) {
    std::size_t r = 0;
    for (std::size_t b = 0; b < bits; ++b) r |= ((i >> b) & 1U) << (bits - 1 - b);
    bit_reverse_[i] = static_cast<std::uint32_t>(r);
  }
  // Per-stage contiguous twiddles (stage with butterflies of half-length m
  // starts at index m - 1), so the butterfly loop reads them unit-stride.
  tw_re_.assign(half_, 0.0f);
  tw_im_.assign(half_, 0.0f);
  for (std::size_t m = 1; m < half_; m <<= 1) {
    for (std::size_t k = 0; k < m; ++k) {
      const double a = std::numbers::pi * static_cast<double>(k) / static_cast<double>(m);
      tw_re_[m - 1 + k] = static_cast<float>(std::cos(a));
      tw_im_[m - 1 + k] = static_cast<float>(-std::sin(a));
    }
  }
  tw_im_conj_.resize(half_);
  for (std::size_t i = 0; i < half_; ++i) tw_im_conj_[i] = -tw_im_[i];
  split_re_.resize(half_ + 1);
  split_im_.resize(half_ + 1);
  for (std::size_t k = 0; k <= half_; ++k) {
    const double a = 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(size_);
    split_re_[k] = static_cast<float>(std::cos(a));
    split_im_[k] = static_cast<float>(-std::sin(a));
  }
  re_.resize(half_);
  im_.resize(half_);
}

void RealFft::Transform(bool inverse) {
  const std::size_t n = half_;
  float* re = re_.data();
  float* im = im_.data();
  if (n < 4) {  // sizes 2 and 4: at most one radix-2 stage
    for (std::size_t i = 0; i + 1 < n; i += 2) {
      const float ar = re[i], ai = im[i], br = re[i + 1], bi = im[i + 1];
      re[i] = ar + br;
      im[i] = ai + bi;
      re[i + 1] = ar - br;
      im[i + 1] = ai - bi;
    }
    return;
  }
  // The first two stages as one radix-4 pass: their twiddles are 1 and -i
  // (+i for the inverse), so no multiplications.
  for (std::size_t i = 0; i < n; i += 4) {
    const float a0r = re[i] + re[i + 1], a0i = im[i] + im[i + 1];
    const float a1r = re[i] - re[i + 1], a1i = im[i] - im[i + 1];
    const float a2r = re[i + 2] + re[i + 3], a2i = im[i + 2] + im[i + 3];
    const float a3r = re[i + 2] - re[i + 3], a3i = im[i + 2] - im[i + 3];
    const float tr = inverse ? -a3i : a3i;
    const float ti = inverse ? a3r : -a3r;
    re[i] = a0r + a2r;
    im[i] = a0i + a2i;
    re[i + 2] = a0r - a2r;
    im[i + 2] = a0i - a2i;
    re[i + 1] = a1r + tr;
    im[i + 1] = a1i + ti;
    re[i + 3] = a1r - tr;
    im[i + 3] = a1i - ti;
  }
  for (std::size_t len = 8; len <= n; len <<= 1) {
    const std::size_t half_len = len / 2;
    const float* twr = tw_re_.data() + half_len - 1;
    const float* twi = (inverse ? tw_im_conj_.data() : tw_im_.data()) + half_len - 1;
    for (std::size_t start = 0; start < n; start += len) {
      float* ar = re + start;
      float* ai = im + start;
      float* br = re + start + half_len;
      float* bi = im + start + half_len;
      for (std::size_t k = 0; k < half_len; ++k) {
        const float wr = twr[k];
        const float wi = twi[k];
        const float tr = br[k] * wr - bi[k] * wi;
        const float ti = br[k] * wi + bi[k] * wr;
        br[k] = ar[k] - tr;
        bi[k] = ai[k] - ti;
        ar[k] += tr;
        ai[k] += ti;
      }
    }
  }
}

void RealFft::Forward(const float* in, std::complex<float>* out) {
  // Even/odd samples as one half-length complex signal, placed bit-reversed.
  for (std::size_t k = 0; k < half_; ++k) {
    const std::size_t j = bit_reverse_[k];
    re_[j] = in[2 * k];
    im_[j] = in[2 * k + 1];
  }
  Transform(false);
  float* o = reinterpret_cast<float*>(out);  // std::complex<float> is float[2]
  o[0] = re_[0] + im_[0];
  o[1] = 0.0f;
  o[2 * half_] = re_[0] - im_[0];
  o[2 * half_ + 1] = 0.0f;
  for (std::size_t k = 1; k < half_; ++k) {
    const float zr = re_[k], zi = im_[k];
    const float cr = re_[half_ - k], ci = -im_[half_ - k];  // conj(Z[h-k])
    const float er = 0.5f * (zr + cr), ei = 0.5f * (zi + ci);
    // odd = -0.5i (Z - conj): (a + ib) * -0.5i = 0.5 b - 0.5 i a
    const float dr = zr - cr, di = zi - ci;
    const float odr = 0.5f * di, odi = -0.5f * dr;
    const float wr = split_re_[k], wi = split_im_[k];
    o[2 * k] = er + odr * wr - odi * wi;
    o[2 * k + 1] = ei + odr * wi + odi * wr;
  }
}

void RealFft::Inverse(const std::complex<float>* in, float* out) {
  const float* x = reinterpret_cast<const float*>(in);
  for (std::size_t k = 1; k < half_; ++k) {
    const float xr = x[2 * k], xi = x[2 * k + 1];
    const float cr = x[2 * (half_ - k)], ci = -x[2 * (half_ - k) + 1];
    const float er = 0.5f * (xr + cr), ei = 0.5f * (xi + ci);
    const float dr = 0.5f * (xr - cr), di = 0.5f * (xi - ci);
    // odd = d * conj(W); Z = even + i * odd
    const float wr = split_re_[k], wi = -split_im_[k];
    const float odr = dr * wr - di * wi, odi = dr * wi + di * wr;
    const std::size_t j = bit_reverse_[k];
    re_[j] = er - odi;
    im_[j] = ei + odr;
  }
  {
    const float x0 = x[0], xn = x[2 * half_];
    re_[0] = 0.5f * (x0 + xn);
    im_[0] = 0.5f * (x0 - xn);
  }
  Transform(true);
  const float scale = 1.0f / static_cast<float>(half_);
  for (std::size_t k = 0; k < half_; ++k) {
    out[2 * k] = re_[k] * scale;
    out[2 * k + 1] = im_[k] * scale;
  }
}

}  // namespace voicecore
