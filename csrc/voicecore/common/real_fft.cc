#include "voicecore/common/real_fft.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>

#include "voicecore/common/errors.h"
#include "voicecore/common/vec4.h"

namespace voicecore {

namespace {

// One bin of the inverse transform's split: Z[k] of the half-length complex
// signal from the interleaved spectrum x and the split twiddles. The scalar
// path and the vector path's tail both use it, so they cannot drift apart.
struct SplitBin {
  float re, im;
};

inline SplitBin InverseSplitBin(const float* x, std::size_t half, std::size_t k,
                                const float* split_re, const float* split_im) {
  const float xr = x[2 * k], xi = x[2 * k + 1];
  const float cr = x[2 * (half - k)], ci = -x[2 * (half - k) + 1];
  const float er = 0.5f * (xr + cr), ei = 0.5f * (xi + ci);
  const float dr = 0.5f * (xr - cr), di = 0.5f * (xi - ci);
  // odd = d * conj(W); Z = even + i * odd
  const float wr = split_re[k], wi = -split_im[k];
  const float odr = dr * wr - di * wi, odi = dr * wi + di * wr;
  return {er - odi, ei + odr};
}

}  // namespace

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
  if (half_ >= 16) scratch_.resize(2 * half_);
}

// The radix-4 group writing outputs 4m..4m+3 reads inputs bit-reverse(4m + t):
// r, r + n/2, r + n/4 and r + 3n/4 with r = bit-reverse(4m) < n/4. Taking four
// consecutive r at once makes every input a contiguous load, and each lane is
// one group, so the results leave through a 4x4 transpose to the groups'
// outputs at bit-reverse(r) (the reversal is its own inverse).
void RealFft::FirstPass(const float* src, bool inverse) {
  const std::size_t n = half_;
  const std::size_t q = n / 4;
  float* re = re_.data();
  float* im = im_.data();
  for (std::size_t r = 0; r < q; r += 4) {
    auto load = [&](std::size_t at, Float4& vr, Float4& vi) {
      const Float4 lo = Load4(src + 2 * at);
      const Float4 hi = Load4(src + 2 * at + 4);
      vr = EvenLanes(lo, hi);
      vi = OddLanes(lo, hi);
    };
    Float4 x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i;
    load(r, x0r, x0i);
    load(r + 2 * q, x1r, x1i);
    load(r + q, x2r, x2i);
    load(r + 3 * q, x3r, x3i);
    const Float4 a0r = x0r + x1r, a0i = x0i + x1i;
    const Float4 a1r = x0r - x1r, a1i = x0i - x1i;
    const Float4 a2r = x2r + x3r, a2i = x2i + x3i;
    const Float4 a3r = x2r - x3r, a3i = x2i - x3i;
    const Float4 tr = inverse ? -a3i : a3i;
    const Float4 ti = inverse ? a3r : -a3r;
    Float4 o0r = a0r + a2r, o0i = a0i + a2i;
    Float4 o2r = a0r - a2r, o2i = a0i - a2i;
    Float4 o1r = a1r + tr, o1i = a1i + ti;
    Float4 o3r = a1r - tr, o3i = a1i - ti;
    Transpose4(o0r, o1r, o2r, o3r);
    Transpose4(o0i, o1i, o2i, o3i);
    Store4(re + bit_reverse_[r], o0r);
    Store4(re + bit_reverse_[r + 1], o1r);
    Store4(re + bit_reverse_[r + 2], o2r);
    Store4(re + bit_reverse_[r + 3], o3r);
    Store4(im + bit_reverse_[r], o0i);
    Store4(im + bit_reverse_[r + 1], o1i);
    Store4(im + bit_reverse_[r + 2], o2i);
    Store4(im + bit_reverse_[r + 3], o3i);
  }
}

// Radix-2 stages two at a time: a block of 2 * len holds the four quarters
// A, B, C, D; stage len pairs (A, B) and (C, D), stage 2 * len pairs the
// results (A, C) and (B, D). Each value goes through the same two butterflies
// as in two separate passes, but is loaded and stored once. A last unpaired
// stage runs alone.
void RealFft::Stages(bool inverse) {
  const std::size_t n = half_;
  float* re = re_.data();
  float* im = im_.data();
  const float* tw_im = inverse ? tw_im_conj_.data() : tw_im_.data();
  // t = b * w, then (a, b) <- (a + t, a - t).
  auto butterfly = [](Float4& ar, Float4& ai, Float4& br, Float4& bi, Float4 wr, Float4 wi) {
    const Float4 tr = br * wr - bi * wi;
    const Float4 ti = br * wi + bi * wr;
    br = ar - tr;
    bi = ai - ti;
    ar = ar + tr;
    ai = ai + ti;
  };
  std::size_t len = 8;
  for (; 2 * len <= n; len *= 4) {
    const std::size_t h = len / 2;
    const float* w1r = tw_re_.data() + h - 1;
    const float* w1i = tw_im + h - 1;
    const float* w2r = tw_re_.data() + 2 * h - 1;
    const float* w2i = tw_im + 2 * h - 1;
    for (std::size_t start = 0; start < n; start += 2 * len) {
      float* r = re + start;
      float* i = im + start;
      for (std::size_t k = 0; k < h; k += 4) {
        Float4 ar = Load4(r + k), ai = Load4(i + k);
        Float4 br = Load4(r + h + k), bi = Load4(i + h + k);
        Float4 cr = Load4(r + 2 * h + k), ci = Load4(i + 2 * h + k);
        Float4 dr = Load4(r + 3 * h + k), di = Load4(i + 3 * h + k);
        const Float4 v1r = Load4(w1r + k), v1i = Load4(w1i + k);
        butterfly(ar, ai, br, bi, v1r, v1i);
        butterfly(cr, ci, dr, di, v1r, v1i);
        butterfly(ar, ai, cr, ci, Load4(w2r + k), Load4(w2i + k));
        butterfly(br, bi, dr, di, Load4(w2r + h + k), Load4(w2i + h + k));
        Store4(r + k, ar);
        Store4(i + k, ai);
        Store4(r + h + k, br);
        Store4(i + h + k, bi);
        Store4(r + 2 * h + k, cr);
        Store4(i + 2 * h + k, ci);
        Store4(r + 3 * h + k, dr);
        Store4(i + 3 * h + k, di);
      }
    }
  }
  if (len <= n) {
    const std::size_t h = len / 2;
    const float* wr = tw_re_.data() + h - 1;
    const float* wi = tw_im + h - 1;
    for (std::size_t start = 0; start < n; start += len) {
      float* r = re + start;
      float* i = im + start;
      for (std::size_t k = 0; k < h; k += 4) {
        Float4 ar = Load4(r + k), ai = Load4(i + k);
        Float4 br = Load4(r + h + k), bi = Load4(i + h + k);
        butterfly(ar, ai, br, bi, Load4(wr + k), Load4(wi + k));
        Store4(r + k, ar);
        Store4(i + k, ai);
        Store4(r + h + k, br);
        Store4(i + h + k, bi);
      }
    }
  }
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
  const bool vector = half_ >= 16;
  if (vector) {
    FirstPass(in, false);
    Stages(false);
  } else {
    for (std::size_t k = 0; k < half_; ++k) {
      const std::size_t j = bit_reverse_[k];
      re_[j] = in[2 * k];
      im_[j] = in[2 * k + 1];
    }
    Transform(false);
  }
  float* o = reinterpret_cast<float*>(out);  // std::complex<float> is float[2]
  o[0] = re_[0] + im_[0];
  o[1] = 0.0f;
  o[2 * half_] = re_[0] - im_[0];
  o[2 * half_ + 1] = 0.0f;
  std::size_t k = 1;
  if (vector) {
    // Bins k..k+3 pair with half - k - 3..half - k, read reversed.
    const Float4 half4 = Splat4(0.5f);
    const Float4 neg_half4 = Splat4(-0.5f);
    for (; k + 4 <= half_; k += 4) {
      const Float4 zr = Load4(re_.data() + k), zi = Load4(im_.data() + k);
      const Float4 cr = Reverse4(Load4(re_.data() + half_ - k - 3));
      const Float4 ci = -Reverse4(Load4(im_.data() + half_ - k - 3));
      const Float4 er = half4 * (zr + cr), ei = half4 * (zi + ci);
      const Float4 dr = zr - cr, di = zi - ci;
      const Float4 odr = half4 * di, odi = neg_half4 * dr;
      const Float4 wr = Load4(split_re_.data() + k), wi = Load4(split_im_.data() + k);
      const Float4 yr = er + odr * wr - odi * wi;
      const Float4 yi = ei + odr * wi + odi * wr;
      Store4(o + 2 * k, InterleaveLo(yr, yi));
      Store4(o + 2 * k + 4, InterleaveHi(yr, yi));
    }
  }
  for (; k < half_; ++k) {
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

void RealFft::ForwardOrZero(const float* in, std::complex<float>* out) {
  // Bit patterns, not values: a -0.0 input goes through Forward, so the
  // result is Forward's to the sign of every zero.
  std::uint32_t any = 0;
  for (std::size_t i = 0; i < size_; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, in + i, sizeof bits);
    any |= bits;
  }
  if (any != 0) {
    Forward(in, out);
    return;
  }
  std::fill(out, out + half_ + 1, std::complex<float>{});
}

void RealFft::Inverse(const std::complex<float>* in, float* out) {
  const float* x = reinterpret_cast<const float*>(in);
  if (half_ >= 16) {
    InverseVector(x, out);
    return;
  }
  for (std::size_t k = 1; k < half_; ++k) {
    const SplitBin z = InverseSplitBin(x, half_, k, split_re_.data(), split_im_.data());
    const std::size_t j = bit_reverse_[k];
    re_[j] = z.re;
    im_[j] = z.im;
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

// Inverse for half_ >= 16: the split of the spectrum into the half-length
// complex signal runs four bins at a time into scratch_ (natural order), and
// FirstPass does the bit-reversed placement.
void RealFft::InverseVector(const float* x, float* out) {
  float* z = scratch_.data();
  z[0] = 0.5f * (x[0] + x[2 * half_]);
  z[1] = 0.5f * (x[0] - x[2 * half_]);
  const Float4 half4 = Splat4(0.5f);
  std::size_t k = 1;
  for (; k + 4 <= half_; k += 4) {
    const Float4 lo = Load4(x + 2 * k), hi = Load4(x + 2 * k + 4);
    const Float4 xr = EvenLanes(lo, hi), xi = OddLanes(lo, hi);
    const float* m = x + 2 * (half_ - k - 3);
    const Float4 mlo = Load4(m), mhi = Load4(m + 4);
    const Float4 cr = Reverse4(EvenLanes(mlo, mhi));
    const Float4 ci = -Reverse4(OddLanes(mlo, mhi));
    const Float4 er = half4 * (xr + cr), ei = half4 * (xi + ci);
    const Float4 dr = half4 * (xr - cr), di = half4 * (xi - ci);
    const Float4 wr = Load4(split_re_.data() + k), wi = -Load4(split_im_.data() + k);
    const Float4 odr = dr * wr - di * wi, odi = dr * wi + di * wr;
    const Float4 zr = er - odi, zi = ei + odr;
    Store4(z + 2 * k, InterleaveLo(zr, zi));
    Store4(z + 2 * k + 4, InterleaveHi(zr, zi));
  }
  for (; k < half_; ++k) {
    const SplitBin b = InverseSplitBin(x, half_, k, split_re_.data(), split_im_.data());
    z[2 * k] = b.re;
    z[2 * k + 1] = b.im;
  }
  FirstPass(z, true);
  Stages(true);
  const Float4 scale = Splat4(1.0f / static_cast<float>(half_));
  for (std::size_t j = 0; j < half_; j += 4) {
    const Float4 r = Load4(re_.data() + j) * scale;
    const Float4 i = Load4(im_.data() + j) * scale;
    Store4(out + 2 * j, InterleaveLo(r, i));
    Store4(out + 2 * j + 4, InterleaveHi(r, i));
  }
}

}  // namespace voicecore
