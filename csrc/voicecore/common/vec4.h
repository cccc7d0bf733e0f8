// Four-lane float vectors through the GCC/Clang vector extension, for the
// kernels' hot loops in the baseline build (SSE2 on x86-64, NEON on aarch64).
// The auto-vectoriser leaves many of those loops scalar: the butterflies of an
// in-place FFT may alias as far as it can tell, and loops with reversed or
// interleaved access need shuffles it does not find. Lane arithmetic is plain
// IEEE single precision with the operations in source order, and x86-64's
// baseline ISA has no FMA to contract them into, so there a vector loop gives
// the same bits as the scalar loop it replaces.
//
// Thread contract: pure functions.
#pragma once

#include <cstring>

namespace voicecore {

typedef float Float4 __attribute__((vector_size(16)));

// Unaligned loads and stores (memcpy compiles to one movups / ldr q).
inline Float4 Load4(const float* p) {
  Float4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void Store4(float* p, Float4 v) { std::memcpy(p, &v, sizeof v); }
inline Float4 Splat4(float x) { return Float4{x, x, x, x}; }

// Lanes in reverse order.
inline Float4 Reverse4(Float4 v) { return __builtin_shufflevector(v, v, 3, 2, 1, 0); }
// [a0 b0 a1 b1] and [a2 b2 a3 b3]: two vectors back to interleaved pairs.
inline Float4 InterleaveLo(Float4 a, Float4 b) { return __builtin_shufflevector(a, b, 0, 4, 1, 5); }
inline Float4 InterleaveHi(Float4 a, Float4 b) { return __builtin_shufflevector(a, b, 2, 6, 3, 7); }
// From interleaved pairs [x0 y0 x1 y1] [x2 y2 x3 y3]: the x lanes, the y lanes.
inline Float4 EvenLanes(Float4 lo, Float4 hi) { return __builtin_shufflevector(lo, hi, 0, 2, 4, 6); }
inline Float4 OddLanes(Float4 lo, Float4 hi) { return __builtin_shufflevector(lo, hi, 1, 3, 5, 7); }

// Lane-wise min / max with the scalar std::min(a, b) / std::max(a, b)
// semantics ((b < a) ? b : a and (a < b) ? b : a), so NaN and signed-zero
// cases match the scalar code too.
inline Float4 Min4(Float4 a, Float4 b) { return b < a ? b : a; }
inline Float4 Max4(Float4 a, Float4 b) { return a < b ? b : a; }

// Sum of the lanes as ((v0 + v1) + (v2 + v3)).
inline float PairwiseSum4(Float4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }

// 4x4 transpose of the rows r0..r3.
inline void Transpose4(Float4& r0, Float4& r1, Float4& r2, Float4& r3) {
  const Float4 t0 = InterleaveLo(r0, r1);  // r0[0] r1[0] r0[1] r1[1]
  const Float4 t1 = InterleaveHi(r0, r1);  // r0[2] r1[2] r0[3] r1[3]
  const Float4 t2 = InterleaveLo(r2, r3);
  const Float4 t3 = InterleaveHi(r2, r3);
  r0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
  r1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
  r2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
  r3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

}  // namespace voicecore
