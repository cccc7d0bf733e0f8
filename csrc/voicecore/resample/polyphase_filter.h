// Polyphase Kaiser-windowed-sinc filter bank for a rational rate change L/M.
//
// The continuous prototype g(t) (t in input samples) is a Kaiser-windowed sinc
// whose cutoff sits midway between the preset's passband edge and the lower of
// the two Nyquist frequencies (the stopband starts exactly at that Nyquist, so
// nothing above it can alias or image into the output band). It is sampled at
// the fractional positions the resampler needs:
//   * exact mode (the usual case, every common rate pair): one phase per
//     distinct fractional position p/L, p = 0..L-1, so no coefficient is ever
//     approximated;
//   * interpolated mode (only when an exact table would exceed kMaxTableBytes,
//     e.g. 44100 -> 44101 where L = 44101): P + 1 phases on a uniform grid and
//     the resampler blends the two neighbouring phases linearly.
// Each phase is stored reversed and zero-padded to a multiple of kTapAlign so
// the inner loop is a plain forward dot product over contiguous memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "voicecore/resample/quality.h"

namespace voicecore::resample {

// Cache-line aligned storage: with 64-byte aligned rows whose stride is a
// multiple of 32 floats, no 32-byte tap load ever straddles two cache lines.
template <typename T>
struct CacheAlignedAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheAlignedAllocator() = default;
  template <typename U>
  explicit CacheAlignedAllocator(const CacheAlignedAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, kAlign); }
  bool operator==(const CacheAlignedAllocator&) const { return true; }
};

class PolyphaseFilter {
 public:
  // Every phase is padded to a multiple of this many taps (the widest SIMD
  // block: 4 AVX2 accumulators of 8 floats).
  static constexpr std::size_t kTapAlign = 32;
  // Upper bound on an exact table before falling back to interpolation.
  static constexpr std::size_t kMaxTableBytes = 16u << 20;
  // More distinct phases than this (e.g. 44100 -> 44101) use the interpolated mode.
  static constexpr std::int64_t kMaxExactPhases = 4096;

  // `interpolation` = L and `decimation` = M, already reduced by their gcd.
  PolyphaseFilter(std::int64_t interpolation, std::int64_t decimation, const QualitySpec& spec);
  PolyphaseFilter(const PolyphaseFilter&) = delete;
  PolyphaseFilter& operator=(const PolyphaseFilter&) = delete;

  // Taps that carry weight per output (even); the input window of one output.
  std::size_t num_taps() const { return num_taps_; }
  // Row stride of the tables (num_taps() rounded up to kTapAlign).
  std::size_t padded_taps() const { return padded_taps_; }
  // Number of stored phases: L in exact mode, P + 1 in interpolated mode.
  std::size_t num_phases() const { return num_phases_; }
  bool interpolated() const { return interpolated_; }
  // Grid size P of the interpolated mode (0 in exact mode).
  std::size_t grid_phases() const { return interpolated_ ? num_phases_ - 1 : 0; }
  // Cutoff of the prototype in cycles per input sample.
  double cutoff() const { return cutoff_; }

  // Row `phase` (padded_taps() values). Only the table matching the preset's
  // precision is filled; the other is empty.
  const float* PhaseF32(std::size_t phase) const { return f32_.data() + phase * padded_taps_; }
  const double* PhaseF64(std::size_t phase) const { return f64_.data() + phase * padded_taps_; }

  // The continuous prototype g(t), t in input samples (unnormalised per phase).
  double Prototype(double t) const;

 private:
  const bool double_precision_;
  std::size_t num_taps_ = 0;
  std::size_t padded_taps_ = 0;
  std::size_t num_phases_ = 0;
  bool interpolated_ = false;
  double cutoff_ = 0.0;
  double beta_ = 0.0;
  double half_width_ = 0.0;
  double inv_i0_beta_ = 0.0;
  std::vector<float, CacheAlignedAllocator<float>> f32_;
  std::vector<double, CacheAlignedAllocator<double>> f64_;
};

}  // namespace voicecore::resample
