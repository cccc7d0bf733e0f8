// Zero-phase Kaiser half-band 2:1 decimator, the cheap first stage in front of
// the polyphase filter when the rate drops by 2.5x or more (48k -> 16k,
// 44.1k -> 16k, 48k -> 8k...). Halving the rate first halves the polyphase
// filter's length, and the half-band costs far less than it saves.
//
// Output j is the filtered input at time 2j (no delay: its window is centred),
// so the two stages stay time-aligned. Every other tap of a half-band filter is
// zero and it is symmetric, so with the history split into even- and odd-time
// samples an output is 0.5 * even[j] + sum_m c[m] * (odd[j-1-m] + odd[j+m]).
// The loops run across outputs, contiguous and fixed in order, so the result
// never depends on chunking or alignment.
//
// Thread contract: owned by one Resampler; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "voicecore/resample/polyphase_filter.h"

namespace voicecore::resample {

template <typename S>
using HalfbandRowFn = void (*)(const S* taps, std::size_t padded, const S* even, const S* odd,
                               std::size_t count, S* out);

class HalfbandDecimator {
 public:
  // `transition` is the width of the transition band in cycles per input
  // sample (centred on 0.25); `attenuation_db` its Kaiser stopband.
  // `f32` / `f64` compute a run of outputs from the contiguous odd-sample
  // window (the ISA-dispatched dot products of resample_kernels.h).
  HalfbandDecimator(double transition, double attenuation_db, int num_channels,
                    std::size_t block_frames, bool double_precision, HalfbandRowFn<float> f32,
                    HalfbandRowFn<double> f64);
  HalfbandDecimator(const HalfbandDecimator&) = delete;
  HalfbandDecimator& operator=(const HalfbandDecimator&) = delete;

  // Half-width D of the filter (odd): output j needs input up to 2j + D.
  std::size_t half_width() const { return 2 * coefs_.size() - 1; }
  std::size_t num_coefficients() const { return coefs_.size(); }
  // Input frames one Push() accepts at most.
  std::size_t block_frames() const { return block_frames_; }

  // Outputs that become computable once `more` input frames are pushed.
  std::size_t CountFor(std::size_t more) const;

  // Appends `frames` interleaved frames (nullptr: zeros), converting to S.
  template <typename S, typename In>
  void Push(const In* in, std::size_t frames);
  // Writes every computable output, channel c to out + c * out_stride, at most
  // `max_frames`; returns the count.
  template <typename S>
  std::size_t Run(S* out, std::size_t out_stride, std::size_t max_frames);

  void Reset();

  // Kaiser half-band odd-tap coefficients c[m] (taps at +-(2m + 1)), for a
  // filter whose odd taps sum to `odd_sum`.
  static std::vector<double> Design(double transition, double attenuation_db, double odd_sum);

 private:
  template <typename S>
  std::vector<S>& Buffer();

  const int num_channels_;
  const std::size_t block_frames_;
  const bool double_precision_;
  std::vector<double> coefs_;
  // The odd taps as one contiguous row over odd[j - Q .. j + Q - 1], padded.
  std::size_t padded_taps_ = 0;
  std::vector<float, CacheAlignedAllocator<float>> row_f32_;
  std::vector<double, CacheAlignedAllocator<double>> row_f64_;
  HalfbandRowFn<float> run_f32_;
  HalfbandRowFn<double> run_f64_;
  // Per channel two planes (even-time, odd-time samples) of plane_stride_.
  std::size_t plane_stride_ = 0;
  std::vector<float> buf_f32_;
  std::vector<double> buf_f64_;
  // Plane index 0 holds time index base_ (in half-rate units, may be < 0).
  std::int64_t base_ = 0;
  std::int64_t received_ = 0;  // input frames pushed since Reset()
  std::int64_t next_ = 0;      // next output index j
};

}  // namespace voicecore::resample
