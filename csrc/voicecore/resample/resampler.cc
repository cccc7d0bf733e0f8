#include "voicecore/resample/resampler.h"

#include "voicecore/resample/halfband_interpolator.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>
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

// A half-band stage pays off once the rate changes by 2.5x or more: then its
// transition band (between the lower Nyquist and its mirror) is wide enough
// for a short filter, and it halves the polyphase stage's work.
bool UsePreDecimator(int in_rate_hz, int out_rate_hz) {
  return in_rate_hz % 2 == 0 && 2 * static_cast<std::int64_t>(in_rate_hz) >= 5 * out_rate_hz;
}

bool UsePostInterpolator(int in_rate_hz, int out_rate_hz) {
  return out_rate_hz % 2 == 0 && 2 * static_cast<std::int64_t>(out_rate_hz) >= 5 * in_rate_hz;
}

// Input and output rates of the polyphase stage.
int StageIn(int in_rate_hz, int out_rate_hz) {
  return UsePreDecimator(in_rate_hz, out_rate_hz) ? in_rate_hz / 2 : in_rate_hz;
}

int StageOut(int in_rate_hz, int out_rate_hz) {
  return UsePostInterpolator(in_rate_hz, out_rate_hz) ? out_rate_hz / 2 : out_rate_hz;
}

std::int64_t StageL(int in_rate_hz, int out_rate_hz) {
  const int a = StageIn(in_rate_hz, out_rate_hz);
  const int b = StageOut(in_rate_hz, out_rate_hz);
  return b / Gcd(a, b);
}

std::int64_t StageM(int in_rate_hz, int out_rate_hz) {
  const int a = StageIn(in_rate_hz, out_rate_hz);
  const int b = StageOut(in_rate_hz, out_rate_hz);
  return a / Gcd(a, b);
}

// The half-band's images/aliases land anywhere in the band (not only near the
// edge like the polyphase stage's), so it gets extra attenuation; it is short,
// so this costs little.
constexpr double kHalfbandExtraDb = 15.0;

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

Resampler::Resampler(int in_rate_hz, int out_rate_hz, int num_channels, Quality quality,
                     bool allow_simd_dispatch)
    : in_rate_hz_(CheckedRate(in_rate_hz, "in_rate_hz")),
      out_rate_hz_(CheckedRate(out_rate_hz, "out_rate_hz")),
      num_channels_(CheckedChannels(num_channels)),
      quality_(quality),
      interpolation_(out_rate_hz / Gcd(in_rate_hz, out_rate_hz)),
      decimation_(in_rate_hz / Gcd(in_rate_hz, out_rate_hz)),
      two_stage_(UsePreDecimator(in_rate_hz_, out_rate_hz_) ||
                 UsePostInterpolator(in_rate_hz_, out_rate_hz_)),
      stage_interpolation_(StageL(in_rate_hz_, out_rate_hz_)),
      stage_decimation_(StageM(in_rate_hz_, out_rate_hz_)),
      filter_(stage_interpolation_, stage_decimation_, SpecFor(quality)),
      // Room for at least eight steps of M (so the kernels can run outputs in
      // threes of L apart) and at most about one extra copy of each sample.
      block_frames_(std::max<std::size_t>({4096, filter_.num_taps(),
                                           8 * static_cast<std::size_t>(stage_decimation_)})),
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
  if (allow_simd_dispatch && cpu.avx2 && cpu.fma && SelectAvx2Kernel(dbl, false) != nullptr) {
    kernel_f32_ = SelectAvx2Kernel(dbl, false);
    kernel_i16_ = SelectAvx2Kernel(dbl, true);
    kernel_native_ = SelectAvx2NativeKernel(dbl);
    isa_path_ = "avx2+fma";
  } else {
    kernel_f32_ = SelectBaselineKernel(dbl, false);
    kernel_i16_ = SelectBaselineKernel(dbl, true);
    kernel_native_ = SelectBaselineNativeKernel(dbl);
    isa_path_ = "baseline";
  }
  if (UsePostInterpolator(in_rate_hz_, out_rate_hz_)) {
    const double transition =
        (0.5 * out_rate_hz_ - in_rate_hz_) / static_cast<double>(out_rate_hz_);
    const HalfbandKernels hb = std::string_view(isa_path_) == "avx2+fma"
                                   ? SelectAvx2Halfband()
                                   : SelectBaselineHalfband();
    // The polyphase stage writes at most this many half-rate frames per call.
    scratch_frames_ = block_frames_;
    if (dbl) {
      scratch_f64_.assign(scratch_frames_ * static_cast<std::size_t>(num_channels_), 0.0);
    } else {
      scratch_f32_.assign(scratch_frames_ * static_cast<std::size_t>(num_channels_), 0.0f);
    }
    interpolator_ = std::make_unique<HalfbandInterpolator>(
        transition, SpecFor(quality).attenuation_db + kHalfbandExtraDb, num_channels_, scratch_frames_, dbl,
        hb.f32, hb.f64);
  }
  if (UsePreDecimator(in_rate_hz_, out_rate_hz_)) {
    // Flat to the output Nyquist, stopband where the 2:1 fold would land on it.
    const double transition =
        (0.5 * in_rate_hz_ - out_rate_hz_) / static_cast<double>(in_rate_hz_);
    const HalfbandKernels hb = std::string_view(isa_path_) == "avx2+fma"
                                   ? SelectAvx2Halfband()
                                   : SelectBaselineHalfband();
    halfband_ = std::make_unique<HalfbandDecimator>(transition,
                                                    SpecFor(quality).attenuation_db + kHalfbandExtraDb,
                                                    num_channels_, 2 * block_frames_, dbl, hb.f32,
                                                    hb.f64);
  }
  state_.filter = &filter_;
  state_.interpolation = stage_interpolation_;
  state_.step_whole = stage_decimation_ / stage_interpolation_;
  state_.step_frac = stage_decimation_ % stage_interpolation_;
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
  n_in_ = 0;
  n_out_ = 0;
  if (halfband_) halfband_->Reset();
  if (interpolator_) interpolator_->Reset();
}

std::int64_t Resampler::TargetLength() const {
  const std::int64_t whole = n_in_ / decimation_;
  const std::int64_t rest = n_in_ % decimation_;
  return whole * interpolation_ + (rest * interpolation_ + decimation_ - 1) / decimation_;
}

template <typename S>
S* Resampler::History() {
  if constexpr (sizeof(S) == sizeof(double)) {
    return history_f64_.data();
  } else {
    return history_f32_.data();
  }
}

std::size_t Resampler::DropConsumed() {
  // Drop input no future window needs.
  const std::size_t drop = state_.window;
  if (drop > 0) {
    const std::size_t keep = state_.history_len - drop;
    const std::size_t bytes = history_f64_.empty() ? sizeof(float) : sizeof(double);
    auto* base = static_cast<unsigned char*>(state_.history);
    for (int c = 0; c < num_channels_; ++c) {
      unsigned char* ch = base + static_cast<std::size_t>(c) * state_.channel_stride * bytes;
      std::memmove(ch, ch + drop * bytes, keep * bytes);
    }
    state_.history_len = keep;
    state_.window = 0;
  }
  return drop;
}

template <typename S, typename In, typename Out>
std::size_t Resampler::RunTwoStage(const In* in, std::size_t in_frames, Out* out,
                                   std::size_t max_out) {
  const KernelFn kernel = std::is_same_v<Out, std::int16_t> ? kernel_i16_ : kernel_f32_;
  const auto channels = static_cast<std::size_t>(num_channels_);
  S* hist = History<S>();
  std::size_t produced = 0;
  while (in_frames > 0) {
    const std::size_t take = std::min(in_frames, halfband_->block_frames());
    halfband_->Push<S>(in, take);
    if (in != nullptr) in += take * channels;
    in_frames -= take;
    // A block yields at most block/2 + 1 half-rate frames, and after a drop
    // the history has more than block_frames_ free, so one pass drains it.
    const std::size_t n1 = halfband_->Run<S>(hist + state_.history_len, state_.channel_stride,
                                            capacity_ - state_.history_len);
    state_.history_len += n1;
    produced += kernel(state_, out + produced * channels, max_out - produced);
    DropConsumed();
  }
  return produced;
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
  const std::int64_t numer = (d + 1) * stage_interpolation_ - state_.phase;
  return static_cast<std::size_t>((numer + stage_decimation_ - 1) / stage_decimation_);
}

template <typename S, typename In, typename Out>
std::size_t Resampler::RunPostStage(const In* in, std::size_t in_frames, Out* out,
                                    std::size_t max_out) {
  const auto channels = static_cast<std::size_t>(num_channels_);
  S* hist = History<S>();
  S* scratch = nullptr;
  if constexpr (sizeof(S) == sizeof(double)) {
    scratch = scratch_f64_.data();
  } else {
    scratch = scratch_f32_.data();
  }
  std::size_t produced = 0;
  while (in_frames > 0) {
    const std::size_t take = std::min(in_frames, capacity_ - state_.history_len);
    AppendInput(hist, in, take);
    if (in != nullptr) in += take * channels;
    in_frames -= take;
    for (;;) {
      const std::size_t n1 = kernel_native_(state_, scratch, scratch_frames_);
      if (n1 == 0) break;
      interpolator_->Push<S>(scratch, n1);
      produced += interpolator_->Run<S>(out + produced * channels, max_out - produced);
    }
    DropConsumed();
  }
  return produced;
}

template <typename S, typename In>
void Resampler::AppendInput(S* hist, const In* in, std::size_t take) {
  const auto channels = static_cast<std::size_t>(num_channels_);
  const std::size_t stride = state_.channel_stride;
  const std::size_t at = state_.history_len;
  if (in == nullptr) {
    for (std::size_t c = 0; c < channels; ++c) std::fill_n(hist + c * stride + at, take, S(0));
  } else if (channels == 1) {
    S* dst = hist + at;
    for (std::size_t i = 0; i < take; ++i) dst[i] = static_cast<S>(in[i]);
  } else {
    for (std::size_t c = 0; c < channels; ++c) {
      S* dst = hist + c * stride + at;
      for (std::size_t i = 0; i < take; ++i) dst[i] = static_cast<S>(in[i * channels + c]);
    }
  }
  state_.history_len += take;
}

std::size_t Resampler::OutputFramesFor(std::size_t in_frames) const {
  if (halfband_) return CountOutputs(state_.history_len + halfband_->CountFor(in_frames));
  if (interpolator_) {
    return 2 * interpolator_->PairsFor(CountOutputs(state_.history_len + in_frames));
  }
  return CountOutputs(state_.history_len + in_frames);
}

std::size_t Resampler::FlushFrames() const {
  if (format_ == SampleFormat::kNone) return 0;
  if (two_stage_) return static_cast<std::size_t>(TargetLength() - n_out_);
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
std::size_t Resampler::Run(const In* in, std::size_t in_frames, Out* out, std::size_t max_out) {
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
      produced += kernel(state_, out + produced * channels, max_out - produced);
      DropConsumed();
    }
  };
  if (history_f64_.empty()) {
    run_blocks(history_f32_.data());
  } else {
    run_blocks(history_f64_.data());
  }
  return produced;
}

template <typename In, typename Out>
std::size_t Resampler::Dispatch(const In* in, std::size_t in_frames, Out* out, bool flush) {
  // The caller sized `out` from OutputFramesFor / FlushFrames; capping the
  // kernels at that count keeps a counting bug from ever writing past it.
  const std::size_t expected = flush ? FlushFrames() : OutputFramesFor(in_frames);
  if (!two_stage_) return Run(in, flush ? latency_frames() : in_frames, out, expected);
  const bool dbl = !history_f64_.empty();
  std::size_t n = 0;
  if (flush) {
    // Zeros through both stages until the last output inside the input is
    // computable; the cap keeps exactly ceil(n * L / M) frames in total.
    const std::size_t zeros = latency_frames() + 4;
    const auto* none = static_cast<const In*>(nullptr);
    if (halfband_) {
      n = dbl ? RunTwoStage<double>(none, zeros, out, expected)
              : RunTwoStage<float>(none, zeros, out, expected);
    } else {
      n = dbl ? RunPostStage<double>(none, zeros, out, expected)
              : RunPostStage<float>(none, zeros, out, expected);
    }
    return n;
  }
  if (halfband_) {
    n = dbl ? RunTwoStage<double>(in, in_frames, out, expected)
            : RunTwoStage<float>(in, in_frames, out, expected);
  } else {
    n = dbl ? RunPostStage<double>(in, in_frames, out, expected)
            : RunPostStage<float>(in, in_frames, out, expected);
  }
  n_in_ += static_cast<std::int64_t>(in_frames);
  n_out_ += static_cast<std::int64_t>(n);
  return n;
}

std::size_t Resampler::Process(const float* in, std::size_t in_frames, float* out) {
  CheckFormat(SampleFormat::kFloat32);
  format_ = SampleFormat::kFloat32;
  return Dispatch(in, in_frames, out, false);
}

std::size_t Resampler::Process(const std::int16_t* in, std::size_t in_frames, std::int16_t* out) {
  CheckFormat(SampleFormat::kInt16);
  format_ = SampleFormat::kInt16;
  return Dispatch(in, in_frames, out, false);
}

std::size_t Resampler::Flush(float* out) {
  std::size_t n = 0;
  if (format_ == SampleFormat::kFloat32) {
    n = Dispatch(static_cast<const float*>(nullptr), 0, out, true);
  }
  Reset();
  return n;
}

std::size_t Resampler::Flush(std::int16_t* out) {
  std::size_t n = 0;
  if (format_ == SampleFormat::kInt16) {
    n = Dispatch(static_cast<const std::int16_t*>(nullptr), 0, out, true);
  }
  Reset();
  return n;
}

}  // namespace voicecore::resample
