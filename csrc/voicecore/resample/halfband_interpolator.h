// Zero-phase Kaiser half-band 1:2 interpolator, the cheap last stage behind the
// polyphase filter when the rate rises by 2.5x or more (16k -> 48k, 8k -> 24k,
// 16k -> 44.1k...): the polyphase stage then only produces half the frames.
//
// Output 2j is the half-rate frame u[j] itself (a half-band's centre tap is the
// only non-zero even tap), output 2j + 1 is one dot product of the odd taps
// with u[j - Q + 1 .. j + Q]; both are centred, so nothing is delayed. The dot
// products are the ISA-dispatched ones of resample_kernels.h.
//
// Thread contract: owned by one Resampler; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "voicecore/resample/halfband_decimator.h"
#include "voicecore/resample/polyphase_filter.h"

namespace voicecore::resample {

class HalfbandInterpolator {
 public:
  // `transition` in cycles per output sample (centred on 0.25); `max_push` the
  // most half-rate frames one Push() may bring.
  HalfbandInterpolator(double transition, double attenuation_db, int num_channels,
                       std::size_t max_push, bool double_precision, HalfbandRowFn<float> f32,
                       HalfbandRowFn<double> f64);
  HalfbandInterpolator(const HalfbandInterpolator&) = delete;
  HalfbandInterpolator& operator=(const HalfbandInterpolator&) = delete;

  // Q: output pair j needs half-rate frames up to j + Q.
  std::size_t num_coefficients() const { return num_coefficients_; }
  std::size_t max_push() const { return max_push_; }
  // Output pairs ready once `more` half-rate frames have been pushed.
  std::size_t PairsFor(std::size_t more) const;

  // Appends `frames` interleaved half-rate frames.
  template <typename S>
  void Push(const S* interleaved, std::size_t frames);
  // Writes the ready output frames (interleaved, converted to Out), at most
  // `max_frames`; returns the count.
  template <typename S, typename Out>
  std::size_t Run(Out* out, std::size_t max_frames);

  void Reset();

 private:
  template <typename S>
  std::vector<S>& Buffer();
  template <typename S>
  std::vector<S>& Scratch();

  const int num_channels_;
  const std::size_t max_push_;
  std::size_t num_coefficients_ = 0;
  std::size_t padded_taps_ = 0;
  std::vector<float, CacheAlignedAllocator<float>> row_f32_;
  std::vector<double, CacheAlignedAllocator<double>> row_f64_;
  HalfbandRowFn<float> run_f32_;
  HalfbandRowFn<double> run_f64_;
  std::size_t plane_stride_ = 0;
  std::vector<float> buf_f32_;  // per channel: half-rate frames from base_
  std::vector<double> buf_f64_;
  std::size_t scratch_stride_ = 0;
  std::vector<float> odd_f32_;  // per channel: the odd outputs of one Run
  std::vector<double> odd_f64_;
  std::int64_t base_ = 0;
  std::int64_t received_ = 0;
  std::int64_t next_ = 0;  // next output pair j
};

}  // namespace voicecore::resample
