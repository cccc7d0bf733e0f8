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

#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace voicecore {

typedef float Float4 __attribute__((vector_size(16)));

// Lane permutation of two vectors (indices 0-3 pick from a, 4-7 from b):
// __builtin_shufflevector is Clang's and GCC 12's spelling, __builtin_shuffle
// older GCC's.
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define VC_SHUFFLE4(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
typedef int VcIndex4 __attribute__((vector_size(16)));
#define VC_SHUFFLE4(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, VcIndex4{i0, i1, i2, i3})
#endif

// Unaligned loads and stores (memcpy compiles to one movups / ldr q).
inline Float4 Load4(const float* p) {
  Float4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void Store4(float* p, Float4 v) { std::memcpy(p, &v, sizeof v); }
inline Float4 Splat4(float x) { return Float4{x, x, x, x}; }

// Lanes in reverse order.
inline Float4 Reverse4(Float4 v) { return VC_SHUFFLE4(v, v, 3, 2, 1, 0); }
// [a0 b0 a1 b1] and [a2 b2 a3 b3]: two vectors back to interleaved pairs.
inline Float4 InterleaveLo(Float4 a, Float4 b) { return VC_SHUFFLE4(a, b, 0, 4, 1, 5); }
inline Float4 InterleaveHi(Float4 a, Float4 b) { return VC_SHUFFLE4(a, b, 2, 6, 3, 7); }
// From interleaved pairs [x0 y0 x1 y1] [x2 y2 x3 y3]: the x lanes, the y lanes.
inline Float4 EvenLanes(Float4 lo, Float4 hi) { return VC_SHUFFLE4(lo, hi, 0, 2, 4, 6); }
inline Float4 OddLanes(Float4 lo, Float4 hi) { return VC_SHUFFLE4(lo, hi, 1, 3, 5, 7); }

// Lane-wise min / max with the scalar std::min(a, b) / std::max(a, b)
// semantics ((b < a) ? b : a and (a < b) ? b : a), so NaN and signed-zero
// cases match the scalar code too.
inline Float4 Min4(Float4 a, Float4 b) { return b < a ? b : a; }
inline Float4 Max4(Float4 a, Float4 b) { return a < b ? b : a; }

// Correctly rounded lane-wise square root, like std::sqrt per lane.
inline Float4 Sqrt4(Float4 v) {
#if defined(__SSE2__)
  return reinterpret_cast<Float4>(_mm_sqrt_ps(reinterpret_cast<__m128>(v)));
#else
  return Float4{std::sqrt(v[0]), std::sqrt(v[1]), std::sqrt(v[2]), std::sqrt(v[3])};
#endif
}

// 4x4 transpose of the rows r0..r3.
inline void Transpose4(Float4& r0, Float4& r1, Float4& r2, Float4& r3) {
  const Float4 t0 = InterleaveLo(r0, r1);  // r0[0] r1[0] r0[1] r1[1]
  const Float4 t1 = InterleaveHi(r0, r1);  // r0[2] r1[2] r0[3] r1[3]
  const Float4 t2 = InterleaveLo(r2, r3);
  const Float4 t3 = InterleaveHi(r2, r3);
  r0 = VC_SHUFFLE4(t0, t2, 0, 1, 4, 5);
  r1 = VC_SHUFFLE4(t0, t2, 2, 3, 6, 7);
  r2 = VC_SHUFFLE4(t1, t3, 0, 1, 4, 5);
  r3 = VC_SHUFFLE4(t1, t3, 2, 3, 6, 7);
}

// Lane-generic forms, so one loop body (a generic lambda over float or
// Float4) serves both a four-bin loop and its scalar tail.
template <typename V> V LoadN(const float* p);
template <> inline float LoadN<float>(const float* p) { return *p; }
template <> inline Float4 LoadN<Float4>(const float* p) { return Load4(p); }
inline void StoreN(float* p, float v) { *p = v; }
inline void StoreN(float* p, Float4 v) { Store4(p, v); }
template <typename V> V SplatN(float x);
template <> inline float SplatN<float>(float x) { return x; }
template <> inline Float4 SplatN<Float4>(float x) { return Splat4(x); }
// Complex values stored as interleaved (re, im) pairs from `p`.
inline void LoadPairs(const float* p, float& re, float& im) {
  re = p[0];
  im = p[1];
}
inline void LoadPairs(const float* p, Float4& re, Float4& im) {
  const Float4 lo = Load4(p), hi = Load4(p + 4);
  re = EvenLanes(lo, hi);
  im = OddLanes(lo, hi);
}
inline void StorePairs(float* p, float re, float im) {
  p[0] = re;
  p[1] = im;
}
inline void StorePairs(float* p, Float4 re, Float4 im) {
  Store4(p, InterleaveLo(re, im));
  Store4(p + 4, InterleaveHi(re, im));
}
// std::min / std::max / std::sqrt semantics for either lane type.
inline float MinN(float a, float b) { return b < a ? b : a; }
inline Float4 MinN(Float4 a, Float4 b) { return Min4(a, b); }
inline float MaxN(float a, float b) { return a < b ? b : a; }
inline Float4 MaxN(Float4 a, Float4 b) { return Max4(a, b); }
inline float SqrtN(float a) { return std::sqrt(a); }
inline Float4 SqrtN(Float4 a) { return Sqrt4(a); }

}  // namespace voicecore
