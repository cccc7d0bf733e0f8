#include "voicecore/resample/halfband_interpolator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "voicecore/resample/sample_store.h"

namespace voicecore::resample {

HalfbandInterpolator::HalfbandInterpolator(double transition, double attenuation_db,
                                           int num_channels, std::size_t max_push,
                                           bool double_precision, HalfbandRowFn<float> f32,
                                           HalfbandRowFn<double> f64)
    : num_channels_(num_channels), max_push_(max_push), run_f32_(f32), run_f64_(f64) {
  const std::vector<double> coefs = HalfbandDecimator::Design(transition, attenuation_db, 1.0);
  const std::size_t q = coefs.size();
  num_coefficients_ = q;
  // Row slot i multiplies u[j - Q + 1 + i]: c[Q-1-i] for i < Q, c[i-Q] after.
  const std::size_t align = PolyphaseFilter::kTapAlign;
  padded_taps_ = (2 * q + align - 1) / align * align;
  row_f32_.assign(padded_taps_, 0.0f);
  row_f64_.assign(padded_taps_, 0.0);
  for (std::size_t m = 0; m < q; ++m) {
    row_f64_[q - 1 - m] = coefs[m];
    row_f64_[q + m] = coefs[m];
    row_f32_[q - 1 - m] = static_cast<float>(coefs[m]);
    row_f32_[q + m] = static_cast<float>(coefs[m]);
  }
  plane_stride_ = max_push_ + 2 * q + 8 + padded_taps_;
  scratch_stride_ = max_push_ + 2 * q + 8;
  const auto channels = static_cast<std::size_t>(num_channels_);
  if (double_precision) {
    buf_f64_.assign(plane_stride_ * channels, 0.0);
    odd_f64_.assign(scratch_stride_ * channels, 0.0);
  } else {
    buf_f32_.assign(plane_stride_ * channels, 0.0f);
    odd_f32_.assign(scratch_stride_ * channels, 0.0f);
  }
  Reset();
}

template <>
std::vector<float>& HalfbandInterpolator::Buffer<float>() {
  return buf_f32_;
}
template <>
std::vector<double>& HalfbandInterpolator::Buffer<double>() {
  return buf_f64_;
}
template <>
std::vector<float>& HalfbandInterpolator::Scratch<float>() {
  return odd_f32_;
}
template <>
std::vector<double>& HalfbandInterpolator::Scratch<double>() {
  return odd_f64_;
}

void HalfbandInterpolator::Reset() {
  std::fill(buf_f32_.begin(), buf_f32_.end(), 0.0f);
  std::fill(buf_f64_.begin(), buf_f64_.end(), 0.0);
  // Pair 0 reads u[-Q + 1 ..]: zeros before the stream.
  base_ = 1 - static_cast<std::int64_t>(num_coefficients_);
  received_ = 0;
  next_ = 0;
}

std::size_t HalfbandInterpolator::PairsFor(std::size_t more) const {
  const std::int64_t ready = received_ + static_cast<std::int64_t>(more) -
                             static_cast<std::int64_t>(num_coefficients_);
  return ready > next_ ? static_cast<std::size_t>(ready - next_) : 0;
}

template <typename S>
void HalfbandInterpolator::Push(const S* interleaved, std::size_t frames) {
  std::vector<S>& buf = Buffer<S>();
  const auto channels = static_cast<std::size_t>(num_channels_);
  const auto at = static_cast<std::size_t>(received_ - base_);
  for (std::size_t c = 0; c < channels; ++c) {
    S* dst = buf.data() + c * plane_stride_ + at;
    for (std::size_t i = 0; i < frames; ++i) dst[i] = interleaved[i * channels + c];
  }
  received_ += static_cast<std::int64_t>(frames);
}

template <typename S, typename Out>
std::size_t HalfbandInterpolator::Run(Out* out, std::size_t max_frames) {
  const std::size_t pairs = std::min(PairsFor(0), (max_frames + 1) / 2);
  const std::size_t frames = std::min(2 * pairs, max_frames);
  std::vector<S>& buf = Buffer<S>();
  std::vector<S>& odd = Scratch<S>();
  const auto channels = static_cast<std::size_t>(num_channels_);
  const std::size_t q = num_coefficients_;
  const auto j0 = static_cast<std::size_t>(next_ - base_);  // u index of pair 0's centre
  for (std::size_t c = 0; c < channels; ++c) {
    const S* u = buf.data() + c * plane_stride_;
    S* y = odd.data() + c * scratch_stride_;
    if constexpr (sizeof(S) == sizeof(double)) {
      run_f64_(row_f64_.data(), padded_taps_, nullptr, u + j0 + 1 - q, pairs, y);
    } else {
      run_f32_(row_f32_.data(), padded_taps_, nullptr, u + j0 + 1 - q, pairs, y);
    }
    for (std::size_t j = 0; j < pairs; ++j) {
      out[(2 * j) * channels + c] = Store<Out>::Convert(u[j0 + j]);
      if (2 * j + 1 < frames) out[(2 * j + 1) * channels + c] = Store<Out>::Convert(y[j]);
    }
  }
  next_ += static_cast<std::int64_t>(pairs);
  // Keep from the next pair's window start, u[next_ - Q + 1].
  const std::int64_t keep_from = next_ + 1 - static_cast<std::int64_t>(q);
  if (keep_from > base_) {
    const auto drop = static_cast<std::size_t>(keep_from - base_);
    const auto keep = static_cast<std::size_t>(std::max<std::int64_t>(0, received_ - keep_from));
    for (std::size_t c = 0; c < channels; ++c) {
      S* plane = buf.data() + c * plane_stride_;
      std::memmove(plane, plane + drop, keep * sizeof(S));
    }
    base_ = keep_from;
  }
  return frames;
}

template void HalfbandInterpolator::Push<float>(const float*, std::size_t);
template void HalfbandInterpolator::Push<double>(const double*, std::size_t);
template std::size_t HalfbandInterpolator::Run<float, float>(float*, std::size_t);
template std::size_t HalfbandInterpolator::Run<float, std::int16_t>(std::int16_t*, std::size_t);
template std::size_t HalfbandInterpolator::Run<double, float>(float*, std::size_t);
template std::size_t HalfbandInterpolator::Run<double, std::int16_t>(std::int16_t*, std::size_t);

}  // namespace voicecore::resample
