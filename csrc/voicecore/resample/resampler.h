// Streaming polyphase windowed-sinc sample-rate converter.
//
// The rate change in/out is reduced to L/M by their gcd. Output frame k is the
// band-limited value of the input at input time k*M/L, tracked as an integer
// (whole sample, phase numerator mod L), so no floating-point drift ever builds
// up. The filter delay is compensated: the first output frame corresponds to
// the first input frame, and after Flush() a stream of n input frames has
// produced exactly ceil(n * L / M) output frames (every output time k*M/L that
// lies inside the input, [0, n)).
//
// When the rate drops by 2.5x or more a zero-phase half-band 2:1 stage runs
// first (HalfbandDecimator); when it rises by 2.5x or more a 1:2 half-band
// stage runs last (HalfbandInterpolator). Either halves the polyphase stage's
// work; both are centred, so alignment and length are unchanged.
//
// Chunk invariance: each output frame is one fixed-order dot product over the
// same input window whatever the chunking, so any split of the input followed
// by Flush() is bit-identical to one Process() + Flush(). Results are
// deterministic per ISA path (baseline or AVX2+FMA, chosen once per process).
//
// Thread contract: one instance per stream; an instance is not safe to use from
// two threads at once. Different instances share nothing mutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "voicecore/resample/halfband_decimator.h"
#include "voicecore/resample/halfband_interpolator.h"
#include "voicecore/resample/polyphase_filter.h"
#include "voicecore/resample/quality.h"

namespace voicecore::resample {

enum class SampleFormat { kNone, kFloat32, kInt16 };

// Shared by the baseline and AVX2 kernels (resample_kernel_impl.h).
struct KernelState {
  const PolyphaseFilter* filter;
  std::int64_t interpolation;  // L
  std::int64_t step_whole;     // M / L
  std::int64_t step_frac;      // M % L
  int num_channels;
  std::size_t channel_stride;  // distance between channel histories
  void* history;               // planar float or double histories
  std::size_t history_len;     // valid frames per channel
  std::size_t window;          // start of the next output's window
  std::int64_t phase;          // numerator of its fractional position (mod L)
};

using KernelFn = std::size_t (*)(KernelState& state, void* out, std::size_t max_frames);

class Resampler {
 public:
  static constexpr int kMinRateHz = 8000;
  static constexpr int kMaxRateHz = 192000;
  static constexpr int kMaxChannels = 32;

  // Throws ConfigError for rates outside [kMinRateHz, kMaxRateHz] or a channel
  // count outside [1, kMaxChannels]. Builds the filter table once.
  // `allow_simd_dispatch` = false pins the baseline kernels (tests use it to
  // cover that path on AVX2 machines).
  Resampler(int in_rate_hz, int out_rate_hz, int num_channels, Quality quality,
            bool allow_simd_dispatch = true);
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;
  ~Resampler();

  // Output frames the next Process() of `in_frames` frames will write.
  std::size_t OutputFramesFor(std::size_t in_frames) const;
  // Output frames the next Flush() will write.
  std::size_t FlushFrames() const;

  // The first Process() after construction, Reset() or Flush() fixes the
  // stream's sample format; a later call with the other format throws
  // AudioFormatError (histories are kept in the format's own scale).
  void CheckFormat(SampleFormat format) const;

  // Interleaved `in_frames` x num_channels in, OutputFramesFor(in_frames)
  // frames out (the caller sizes `out`). float32 passes through unscaled;
  // int16 is filtered in its own scale and rounded half-to-even, saturated.
  // Never allocates.
  std::size_t Process(const float* in, std::size_t in_frames, float* out);
  std::size_t Process(const std::int16_t* in, std::size_t in_frames, std::int16_t* out);

  // Emits the delayed tail (FlushFrames() frames, in the stream's format; an
  // unstarted stream writes nothing) and then resets the stream.
  std::size_t Flush(float* out);
  std::size_t Flush(std::int16_t* out);

  // Clears history and position, keeps the configuration.
  void Reset();

  int in_rate_hz() const { return in_rate_hz_; }
  int out_rate_hz() const { return out_rate_hz_; }
  int num_channels() const { return num_channels_; }
  Quality quality() const { return quality_; }
  SampleFormat format() const { return format_; }
  std::int64_t interpolation() const { return interpolation_; }
  std::int64_t decimation() const { return decimation_; }
  const PolyphaseFilter& filter() const { return filter_; }
  // Rate the polyphase filter runs at: in_rate_hz, or in_rate_hz / 2 behind
  // the half-band first stage.
  int filter_rate_hz() const { return halfband_ ? in_rate_hz_ / 2 : in_rate_hz_; }
  const HalfbandDecimator* halfband() const { return halfband_.get(); }
  const HalfbandInterpolator* interpolator() const { return interpolator_.get(); }
  // Lookahead in input frames (all stages), and in milliseconds.
  std::size_t latency_frames() const {
    if (halfband_) return filter_.num_taps() + halfband_->half_width();
    if (interpolator_) {
      // Output pair j needs half-rate frame j + Q, i.e. Q * M/L input frames on.
      const auto q = static_cast<std::int64_t>(interpolator_->num_coefficients());
      return filter_.num_taps() / 2 +
             static_cast<std::size_t>((q * stage_decimation_ + stage_interpolation_ - 1) /
                                      stage_interpolation_);
    }
    return filter_.num_taps() / 2;
  }
  double latency_ms() const;
  // "avx2+fma" or "baseline": the kernel path this instance uses.
  const char* isa_path() const { return isa_path_; }

 private:
  template <typename In, typename Out>
  std::size_t Run(const In* in, std::size_t in_frames, Out* out, std::size_t max_out);
  template <typename In, typename Out>
  std::size_t Dispatch(const In* in, std::size_t in_frames, Out* out, bool flush);
  template <typename S, typename In, typename Out>
  std::size_t RunTwoStage(const In* in, std::size_t in_frames, Out* out, std::size_t max_out);
  template <typename S, typename In, typename Out>
  std::size_t RunPostStage(const In* in, std::size_t in_frames, Out* out, std::size_t max_out);
  template <typename S, typename In>
  void AppendInput(S* hist, const In* in, std::size_t take);
  template <typename S>
  S* History();
  std::size_t CountOutputs(std::size_t history_len) const;
  std::size_t DropConsumed();
  // ceil(n_in_ * L / M) without overflow: the stream's exact total length.
  std::int64_t TargetLength() const;

  const int in_rate_hz_;
  const int out_rate_hz_;
  const int num_channels_;
  const Quality quality_;
  const std::int64_t interpolation_;
  const std::int64_t decimation_;
  // A half-band stage before (rate drops >= 2.5x, HalfbandDecimator) or after
  // (rate rises >= 2.5x, HalfbandInterpolator) the polyphase stage.
  const bool two_stage_;
  const std::int64_t stage_interpolation_;  // L and M of the polyphase stage
  const std::int64_t stage_decimation_;
  const PolyphaseFilter filter_;
  // Input frames accepted per inner block; the history holds taps + block.
  const std::size_t block_frames_;
  const std::size_t capacity_;
  std::vector<float> history_f32_;
  std::vector<double> history_f64_;
  KernelFn kernel_f32_ = nullptr;
  KernelFn kernel_i16_ = nullptr;
  KernelFn kernel_native_ = nullptr;
  const char* isa_path_ = "baseline";
  std::unique_ptr<HalfbandDecimator> halfband_;
  std::unique_ptr<HalfbandInterpolator> interpolator_;
  // Half-rate frames between the polyphase stage and the interpolator.
  std::size_t scratch_frames_ = 0;
  std::vector<float> scratch_f32_;
  std::vector<double> scratch_f64_;
  KernelState state_{};
  SampleFormat format_ = SampleFormat::kNone;
  // Real input frames and output frames since Reset() (two-stage flush length).
  std::int64_t n_in_ = 0;
  std::int64_t n_out_ = 0;
};

}  // namespace voicecore::resample
