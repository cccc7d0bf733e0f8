#include "voicecore/resample/resampler.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>

#include "voicecore/common/cpu_features.h"
#include "voicecore/common/errors.h"
#include "voicecore/resample/resample_kernels.h"

namespace voicecore::resample {

namespace {

int CheckedRate(int rate_hz, const char* what) {
  if (rate_hz < Resampler::kMinRateHz || rate_hz > Resampler::kMaxRateHz) {
    throw ConfigError(std::string(what) + "=" + std::to_string(rate_hz) +
                      " Hz is not supported; use an integer rate from " +
                      std::to_string(Resampler::kMinRateHz) + " to " +
                      std::to_string(Resampler::kMaxRateHz) + " Hz");
  }
  return rate_hz;
}

int CheckedChannels(int num_channels) {
  if (num_channels < 1 || num_channels > Resampler::kMaxChannels) {
    throw ConfigError("num_channels=" + std::to_string(num_channels) +
                      " is not supported; use 1 to " + std::to_string(Resampler::kMaxChannels));
  }
  return num_channels;
}

std::int64_t Gcd(int a, int b) { return std::gcd(static_cast<std::int64_t>(a), b); }

const char* FormatName(SampleFormat format) {
  switch (format) {
    case SampleFormat::kFloat32:
      return "float32";
    case SampleFormat::kInt16:
      return "int16";
    case SampleFormat::kNone:
      break;
  }
  return "none";
}

}  // namespace

Resampler::Resampler(int in_rate_hz, int out_rate_hz, int num_channels, Quality quality)
    : in_rate_hz_(CheckedRate(in_rate_hz, "in_rate_hz")),
      out_rate_hz_(CheckedRate(out_rate_hz, "out_rate_hz")),
      num_channels_(CheckedChannels(num_channels)),
      quality_(quality),
      interpolation_(out_rate_hz / Gcd(in_rate_hz, out_rate_hz)),
      decimation_(in_rate_hz / Gcd(in_rate_hz, out_rate_hz)),
      filter_(interpolation_, decimation_, SpecFor(quality)),
      // Large enough that the per-block history shift costs at most about one
      // extra copy of each input sample.
      block_frames_(std::max<std::size_t>(2048, filter_.num_taps())),
      capacity_(filter_.num_taps() + block_frames_) {
  const bool dbl = SpecFor(quality).double_precision;
  // The last window may read up to padded_taps() samples (zero taps beyond
  // num_taps()), so each channel keeps that slack, zero-initialised.
  const std::size_t stride = capacity_ + (filter_.padded_taps() - filter_.num_taps());
  if (dbl) {
    history_f64_.assign(stride * static_cast<std::size_t>(num_channels_), 0.0);
  } else {
    history_f32_.assign(stride * static_cast<std::size_t>(num_channels_), 0.0f);
  }
  const CpuFeatures& cpu = GetCpuFeatures();
  if (cpu.avx2 && cpu.fma && SelectAvx2Kernel(dbl, false) != nullptr) {
    kernel_f32_ = SelectAvx2Kernel(dbl, false);
    kernel_i16_ = SelectAvx2Kernel(dbl, true);
    isa_path_ = "avx2+fma";
  } else {
    kernel_f32_ = SelectBaselineKernel(dbl, false);
    kernel_i16_ = SelectBaselineKernel(dbl, true);
    isa_path_ = "baseline";
  }
  state_.filter = &filter_;
  state_.interpolation = interpolation_;
  state_.step_whole = decimation_ / interpolation_;
  state_.step_frac = decimation_ % interpolation_;
  state_.num_channels = num_channels_;
  state_.channel_stride = stride;
  state_.history = dbl ? static_cast<void*>(history_f64_.data())
                       : static_cast<void*>(history_f32_.data());
  Reset();
}

Resampler::~Resampler() = default;

void Resampler::Reset() {
  std::fill(history_f32_.begin(), history_f32_.end(), 0.0f);
  std::fill(history_f64_.begin(), history_f64_.end(), 0.0);
  // K/2 - 1 zeros precede the first input frame, so output 0 (input time 0)
  // has its full window once K/2 frames of lookahead have arrived.
  state_.history_len = filter_.num_taps() / 2 - 1;
  state_.window = 0;
  state_.phase = 0;
  format_ = SampleFormat::kNone;
}

double Resampler::latency_ms() const {
  return 1000.0 * static_cast<double>(latency_frames()) / static_cast<double>(in_rate_hz_);
}

std::size_t Resampler::CountOutputs(std::size_t history_len) const {
  // Output j (from the current one) is ready when its window
  // [w + floor((p + j*M) / L), + K) fits the history; solve for j.
  const auto d = static_cast<std::int64_t>(history_len) -
                 static_cast<std::int64_t>(filter_.num_taps()) -
                 static_cast<std::int64_t>(state_.window);
  if (d < 0) return 0;
  const std::int64_t numer = (d + 1) * interpolation_ - state_.phase;
  return static_cast<std::size_t>((numer + decimation_ - 1) / decimation_);
}

std::size_t Resampler::OutputFramesFor(std::size_t in_frames) const {
  return CountOutputs(state_.history_len + in_frames);
}

std::size_t Resampler::FlushFrames() const {
  if (format_ == SampleFormat::kNone) return 0;
  return CountOutputs(state_.history_len + latency_frames());
}

void Resampler::CheckFormat(SampleFormat format) const {
  if (format_ != SampleFormat::kNone && format_ != format) {
    throw AudioFormatError(std::string("this stream was started with ") + FormatName(format_) +
                           " samples but got " + FormatName(format) +
                           "; keep one dtype per stream, or call flush() or reset() first");
  }
}

template <typename In, typename Out>
std::size_t Resampler::Run(const In* in, std::size_t in_frames, Out* out) {
  const KernelFn kernel = std::is_same_v<Out, std::int16_t> ? kernel_i16_ : kernel_f32_;
  const auto channels = static_cast<std::size_t>(num_channels_);
  const std::size_t stride = state_.channel_stride;
  std::size_t produced = 0;
  auto run_blocks = [&](auto* hist) {
    using S = std::remove_pointer_t<decltype(hist)>;
    while (in_frames > 0) {
      const std::size_t take = std::min(in_frames, capacity_ - state_.history_len);
      const std::size_t at = state_.history_len;
      if (in == nullptr) {
        for (std::size_t c = 0; c < channels; ++c) {
          std::fill_n(hist + c * stride + at, take, S(0));
        }
      } else if (channels == 1) {
        S* dst = hist + at;
        for (std::size_t i = 0; i < take; ++i) dst[i] = static_cast<S>(in[i]);
        in += take;
      } else {
        for (std::size_t c = 0; c < channels; ++c) {
          S* dst = hist + c * stride + at;
          for (std::size_t i = 0; i < take; ++i) dst[i] = static_cast<S>(in[i * channels + c]);
        }
        in += take * channels;
      }
      state_.history_len += take;
      in_frames -= take;
      produced += kernel(state_, out + produced * channels, std::numeric_limits<std::size_t>::max());
      // Drop input no future window needs.
      const std::size_t drop = state_.window;
      if (drop > 0) {
        const std::size_t keep = state_.history_len - drop;
        for (std::size_t c = 0; c < channels; ++c) {
          std::memmove(hist + c * stride, hist + c * stride + drop, keep * sizeof(S));
        }
        state_.history_len = keep;
        state_.window = 0;
      }
    }
  };
  if (history_f64_.empty()) {
    run_blocks(history_f32_.data());
  } else {
    run_blocks(history_f64_.data());
  }
  return produced;
}

std::size_t Resampler::Process(const float* in, std::size_t in_frames, float* out) {
  CheckFormat(SampleFormat::kFloat32);
  format_ = SampleFormat::kFloat32;
  return Run(in, in_frames, out);
}

std::size_t Resampler::Process(const std::int16_t* in, std::size_t in_frames, std::int16_t* out) {
  CheckFormat(SampleFormat::kInt16);
  format_ = SampleFormat::kInt16;
  return Run(in, in_frames, out);
}

std::size_t Resampler::Flush(float* out) {
  std::size_t n = 0;
  if (format_ == SampleFormat::kFloat32) {
    n = Run(static_cast<const float*>(nullptr), latency_frames(), out);
  }
  Reset();
  return n;
}

std::size_t Resampler::Flush(std::int16_t* out) {
  std::size_t n = 0;
  if (format_ == SampleFormat::kInt16) {
    n = Run(static_cast<const std::int16_t*>(nullptr), latency_frames(), out);
  }
  Reset();
  return n;
}

}  // namespace voicecore::resample
