// Input checks shared by the kernels that take float audio.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace voicecore {

// Float samples at or beyond this magnitude are not audio in any scale (a
// float stream in int16 scale peaks at 32768), and near float's range the
// kernels' power sums and filters overflow (3e38 in: NaN or Inf out).
inline constexpr float kMaxSampleMagnitude = 65536.0f;

// The first sample that is NaN, +-Inf or of magnitude kMaxSampleMagnitude or
// more, or n if there is none. A branch-free OR over the exponent fields
// first (it vectorises; std::isfinite in a loop with an early exit does
// not), so the common case reads every sample once; the position is looked
// for only when there is a bad sample.
inline std::size_t FirstUnusableSample(const float* x, std::size_t n) {
  constexpr std::uint32_t kExponent = 0x7f800000u;
  constexpr std::uint32_t kLargeBits = std::bit_cast<std::uint32_t>(kMaxSampleMagnitude);
  static_assert((kLargeBits & ~kExponent) == 0, "the bound must be a power of two");
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= static_cast<std::uint32_t>((bits & kExponent) >= kLargeBits);
  }
  if (bad == 0) return n;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || std::fabs(x[i]) >= kMaxSampleMagnitude) return i;
  }
  return n;
}

}  // namespace voicecore
