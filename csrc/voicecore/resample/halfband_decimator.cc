#include "voicecore/resample/halfband_decimator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace voicecore::resample {

namespace {

constexpr double kPi = 3.14159265358979323846;

double I0(double x) {
  const double q = 0.25 * x * x;
  double term = 1.0;
  double sum = 1.0;
  for (int k = 1; k < 200; ++k) {
    term *= q / (static_cast<double>(k) * static_cast<double>(k));
    sum += term;
    if (term < sum * 1e-21) break;
  }
  return sum;
}

std::int64_t FloorDiv2(std::int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

}  // namespace

HalfbandDecimator::HalfbandDecimator(double transition, double attenuation_db, int num_channels,
                                     std::size_t block_frames, bool double_precision,
                                     HalfbandRowFn<float> f32, HalfbandRowFn<double> f64)
    : num_channels_(num_channels),
      block_frames_(block_frames),
      double_precision_(double_precision),
      run_f32_(f32),
      run_f64_(f64) {
  coefs_ = Design(transition, attenuation_db, 0.5);
  const std::size_t q = coefs_.size();
  // Row slot i multiplies odd[j - Q + i]: c[Q-1-i] for i < Q, c[i-Q] after.
  const std::size_t align = PolyphaseFilter::kTapAlign;
  padded_taps_ = (2 * q + align - 1) / align * align;
  row_f32_.assign(padded_taps_, 0.0f);
  row_f64_.assign(padded_taps_, 0.0);
  for (std::size_t m = 0; m < q; ++m) {
    row_f64_[q - 1 - m] = coefs_[m];
    row_f64_[q + m] = coefs_[m];
    row_f32_[q - 1 - m] = static_cast<float>(coefs_[m]);
    row_f32_[q + m] = static_cast<float>(coefs_[m]);
  }
  // Room for a block plus the kept history, plus the padded row's overhang.
  plane_stride_ = block_frames_ / 2 + 2 * q + 8 + padded_taps_;
  const std::size_t total = 2 * plane_stride_ * static_cast<std::size_t>(num_channels_);
  if (double_precision_) {
    buf_f64_.assign(total, 0.0);
  } else {
    buf_f32_.assign(total, 0.0f);
  }
  Reset();
}

std::vector<double> HalfbandDecimator::Design(double transition, double attenuation_db,
                                              double odd_sum) {
  const double beta = 0.1102 * (attenuation_db - 8.7);
  // Kaiser length estimate; the half-width D = 2Q - 1 must cover half of it.
  const double length = (attenuation_db - 7.95) / (2.285 * 2.0 * kPi * transition);
  const auto q = static_cast<std::size_t>(std::max(2.0, std::ceil((length / 2.0 + 1.0) / 2.0)));
  const double half = static_cast<double>(2 * q);  // window half-length (taps at +-(2q-1))
  std::vector<double> coefs(q);
  double sum = 0.0;
  for (std::size_t m = 0; m < q; ++m) {
    const double t = static_cast<double>(2 * m + 1);
    const double sinc = std::sin(kPi * t / 2.0) / (kPi * t / 2.0);
    const double r = t / half;
    coefs[m] = 0.5 * sinc * I0(beta * std::sqrt(1.0 - r * r)) / I0(beta);
    sum += 2.0 * coefs[m];
  }
  // Exact DC gain: with the centre tap at exactly 0.5 the odd taps sum to
  // 0.5 (decimator); the interpolator's odd phase alone must sum to 1.
  for (double& c : coefs) c *= odd_sum / sum;
  return coefs;
}

template <>
std::vector<float>& HalfbandDecimator::Buffer<float>() {
  return buf_f32_;
}
template <>
std::vector<double>& HalfbandDecimator::Buffer<double>() {
  return buf_f64_;
}

void HalfbandDecimator::Reset() {
  std::fill(buf_f32_.begin(), buf_f32_.end(), 0.0f);
  std::fill(buf_f64_.begin(), buf_f64_.end(), 0.0);
  // Odd samples back to time -(2Q - 1) are read by output 0: zeros.
  base_ = -static_cast<std::int64_t>(coefs_.size());
  received_ = 0;
  next_ = 0;
}

std::size_t HalfbandDecimator::CountFor(std::size_t more) const {
  // Output j is ready once input time 2j + D has arrived.
  const std::int64_t last = received_ + static_cast<std::int64_t>(more) - 1 -
                            static_cast<std::int64_t>(half_width());
  if (last < 0) return 0;
  const std::int64_t ready = last / 2 + 1;
  return ready > next_ ? static_cast<std::size_t>(ready - next_) : 0;
}

template <typename S, typename In>
void HalfbandDecimator::Push(const In* in, std::size_t frames) {
  std::vector<S>& buf = Buffer<S>();
  const auto channels = static_cast<std::size_t>(num_channels_);
  for (std::size_t c = 0; c < channels; ++c) {
    S* even = buf.data() + (2 * c) * plane_stride_;
    S* odd = even + plane_stride_;
    std::int64_t t = received_;  // >= 0, so t >> 1 is floor(t / 2)
    std::size_t i = 0;
    if (in == nullptr) {
      for (; i < frames; ++i, ++t) {
        const auto k = static_cast<std::size_t>((t >> 1) - base_);
        if ((t & 1) != 0) {
          odd[k] = S(0);
        } else {
          even[k] = S(0);
        }
      }
      continue;
    }
    const In* src = in + c;
    if ((t & 1) != 0 && i < frames) {
      odd[static_cast<std::size_t>((t >> 1) - base_)] = static_cast<S>(src[0]);
      ++i;
      ++t;
    }
    S* e = even + ((t >> 1) - base_);
    S* o = odd + ((t >> 1) - base_);
    const std::size_t pairs = (frames - i) / 2;
    for (std::size_t k = 0; k < pairs; ++k) {
      e[k] = static_cast<S>(src[(i + 2 * k) * channels]);
      o[k] = static_cast<S>(src[(i + 2 * k + 1) * channels]);
    }
    i += 2 * pairs;
    if (i < frames) e[pairs] = static_cast<S>(src[i * channels]);
  }
  received_ += static_cast<std::int64_t>(frames);
}

template <typename S>
std::size_t HalfbandDecimator::Run(S* out, std::size_t out_stride, std::size_t max_frames) {
  const std::size_t count = std::min(CountFor(0), max_frames);
  std::vector<S>& buf = Buffer<S>();
  const std::size_t q = coefs_.size();
  const auto j0 = static_cast<std::size_t>(next_ - base_);
  for (int c = 0; c < num_channels_; ++c) {
    const S* even = buf.data() + (2 * static_cast<std::size_t>(c)) * plane_stride_;
    const S* odd = even + plane_stride_;
    S* y = out + static_cast<std::size_t>(c) * out_stride;
    if constexpr (sizeof(S) == sizeof(double)) {
      run_f64_(row_f64_.data(), padded_taps_, even + j0, odd + j0 - q, count, y);
    } else {
      run_f32_(row_f32_.data(), padded_taps_, even + j0, odd + j0 - q, count, y);
    }
  }
  next_ += static_cast<std::int64_t>(count);
  // Keep from time index next_ - Q on (the oldest odd sample still needed).
  const std::int64_t keep_from = next_ - static_cast<std::int64_t>(q);
  const std::int64_t end = FloorDiv2(received_ + 1);  // one past the newest index
  if (keep_from > base_) {
    const auto drop = static_cast<std::size_t>(keep_from - base_);
    const auto keep = static_cast<std::size_t>(std::max<std::int64_t>(0, end - keep_from));
    for (std::size_t p = 0; p < 2 * static_cast<std::size_t>(num_channels_); ++p) {
      S* plane = buf.data() + p * plane_stride_;
      std::memmove(plane, plane + drop, keep * sizeof(S));
    }
    base_ = keep_from;
  }
  return count;
}

template void HalfbandDecimator::Push<float, float>(const float*, std::size_t);
template void HalfbandDecimator::Push<float, std::int16_t>(const std::int16_t*, std::size_t);
template void HalfbandDecimator::Push<double, float>(const float*, std::size_t);
template void HalfbandDecimator::Push<double, std::int16_t>(const std::int16_t*, std::size_t);
template std::size_t HalfbandDecimator::Run<float>(float*, std::size_t, std::size_t);
template std::size_t HalfbandDecimator::Run<double>(double*, std::size_t, std::size_t);

}  // namespace voicecore::resample
