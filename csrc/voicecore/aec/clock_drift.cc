#include "voicecore/aec/clock_drift.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace voicecore::aec {
namespace {

// A measurement window: about one second of blocks, of which at least 40 %
// far-end single talk with a cancelling filter.
constexpr int kWindowBlocks = 250;
constexpr int kMinMeasurableBlocks = 100;
// Positions in the slope (about 16 s; also the fewest that engage). While a
// filter converges its direct path's centroid creeps by a few samples over
// its first ~10 s (3 samples in 9 s, 23 ppm, in a still room): over 8 s
// that engaged.
constexpr std::size_t kHistory = 16;
// The centroid's half width around the strongest tap (samples).
constexpr std::size_t kCentroidHalf = 16;
// A position further than this from the line through the history is a
// misfit (samples; the drift moves the path 1.6 samples a second at 100 ppm).
constexpr double kMisfit = 6.0;
// Misfits in a row that start the history over.
constexpr int kMaxMisfits = 3;
// The fastest drift followed (per sample; 300 ppm), and the search around
// the predicted position (samples): the strongest tap there must hold at
// least kLocalPeakShare of the response's strongest amplitude.
constexpr double kMaxDrift = 300e-6;
constexpr std::size_t kSearchHalf = 12;
constexpr double kLocalPeakShare = 0.5;
// Engage at this drift (15 ppm: 1.8 ms over two minutes), when this share of
// the pairwise slopes agree in sign.
constexpr double kEngagePpm = 15e-6;
constexpr double kAgreement = 0.8;
// Each further window moves the estimate this far towards the slope.
constexpr double kLoopGain = 0.5;
// Warp step (samples): a half sample is a phase error of at most 0.2 rad at
// 1 kHz before the step. A warp of both filters costs about 320 us here
// (four long and 284 short transforms), every 78 blocks at 100 ppm. On six
// 60 s calls at +-100 ppm (bench/aec_drift.py scenes, seeds 5, 9, 10), steps
// of 0.25 / 0.5 / 1 sample: median ERLE over the last 30 s 50.0 / 53.2 /
// 49.6 dB, the linear filter's 19.1 / 19.2 / 17.5 dB.
constexpr double kWarpSamples = 0.5;

std::size_t LongFftSize(std::size_t taps) {
  std::size_t n = 2;
  while (n < 2 * taps) n *= 2;
  return n;
}

}  // namespace

ClockDrift::ClockDrift(std::size_t block_size, std::size_t num_partitions)
    : block_size_(block_size),
      taps_(block_size * num_partitions),
      now_(taps_, 0.0f) {
  // Once a second, in the audio path: no allocation there.
  times_.reserve(kHistory + 1);
  positions_.reserve(kHistory + 1);
  slopes_.reserve(kHistory * (kHistory - 1) / 2);
}

void ClockDrift::Reset() {
  window_blocks_ = 0;
  measurable_blocks_ = 0;
  clock_ = 0.0;
  times_.clear();
  positions_.clear();
  misfits_ = 0;
  engaged_ = false;
  drift_ = 0.0;
  pending_ = 0.0;
}

bool ClockDrift::Position(std::size_t offset, double predicted, double* position) const {
  const double base = static_cast<double>(offset * block_size_);
  // A partition's first tap is left out: between gradient constraints a
  // partition's wrapped error collects there (a spike that does not move
  // with the path, as strong as the direct path while the filter re-learns).
  std::size_t strongest = 1;
  for (std::size_t n = 1; n < taps_; ++n) {
    if (n % block_size_ != 0 && std::fabs(now_[n]) > std::fabs(now_[strongest])) strongest = n;
  }
  // With a history, the strongest tap near where the path should be now:
  // a reflection about as strong elsewhere must not take over.
  std::size_t peak = strongest;
  if (predicted >= 0.0) {
    const double at = predicted - base;
    if (at < 0.0 || at >= static_cast<double>(taps_)) return false;
    const std::size_t c = static_cast<std::size_t>(at);
    const std::size_t lo = c > kSearchHalf ? c - kSearchHalf : 0;
    const std::size_t hi = std::min(c + kSearchHalf + 1, taps_);
    peak = lo % block_size_ == 0 ? lo + 1 : lo;
    for (std::size_t n = peak + 1; n < hi; ++n) {
      if (n % block_size_ != 0 && std::fabs(now_[n]) > std::fabs(now_[peak])) peak = n;
    }
    if (std::fabs(now_[peak]) < kLocalPeakShare * std::fabs(now_[strongest])) return false;
  }
  const std::size_t lo = peak > kCentroidHalf ? peak - kCentroidHalf : 0;
  const std::size_t hi = std::min(peak + kCentroidHalf + 1, taps_);
  double sum = 0.0;
  double moment = 0.0;
  for (std::size_t n = lo; n < hi; ++n) {
    const double e = static_cast<double>(now_[n]) * now_[n];
    sum += e;
    moment += e * static_cast<double>(n);
  }
  *position = base + (sum > 0.0 ? moment / sum : static_cast<double>(peak));
  return true;
}

double ClockDrift::Slope(double* agreement) const {
  std::vector<double>& slopes = slopes_;
  slopes.clear();
  for (std::size_t i = 0; i < times_.size(); ++i) {
    for (std::size_t j = i + 1; j < times_.size(); ++j) {
      slopes.push_back((positions_[j] - positions_[i]) / (times_[j] - times_[i]));
    }
  }
  if (slopes.empty()) {
    *agreement = 0.0;
    return 0.0;
  }
  std::sort(slopes.begin(), slopes.end());
  const double median = slopes[slopes.size() / 2];
  const auto same = std::count_if(slopes.begin(), slopes.end(),
                                  [median](double v) { return (v > 0.0) == (median > 0.0); });
  *agreement = static_cast<double>(same) / static_cast<double>(slopes.size());
  return median;
}

float ClockDrift::Step(const AdaptiveFilter& foreground, RealFft& block_fft, bool measurable,
                       std::size_t offset) {
  clock_ += static_cast<double>(block_size_);
  ++window_blocks_;
  if (measurable) ++measurable_blocks_;
  if (window_blocks_ >= kWindowBlocks) {
    if (measurable_blocks_ >= kMinMeasurableBlocks) {
      foreground.ImpulseResponse(block_fft, now_.data());
      // Where the line through the history puts the path now (-1: no history).
      double predicted = -1.0;
      if (times_.size() >= 2) {
        double agreement = 0.0;
        predicted = positions_.back() + Slope(&agreement) * (clock_ - times_.back());
      } else if (times_.size() == 1) {
        predicted = positions_.back();
      }
      double position = 0.0;
      bool fits = Position(offset, predicted, &position);
      if (fits && times_.size() == 1) {
        // No slope yet: the path may have moved at up to kMaxDrift since.
        fits = std::abs(position - predicted) <= kMisfit + kMaxDrift * (clock_ - times_.back());
      } else if (fits && times_.size() >= 2) {
        fits = std::abs(position - predicted) <= kMisfit;
      }
      if (fits) {
        misfits_ = 0;
        times_.push_back(clock_);
        positions_.push_back(position);
        if (times_.size() > kHistory) {
          times_.erase(times_.begin());
          positions_.erase(positions_.begin());
        }
      } else if (++misfits_ >= kMaxMisfits) {
        // Start over from the strongest tap.
        misfits_ = 0;
        times_.clear();
        positions_.clear();
        if (Position(offset, -1.0, &position)) {
          times_.push_back(clock_);
          positions_.push_back(position);
        }
      }
      if (fits && times_.size() >= kHistory) {
        double agreement = 0.0;
        const double slope = Slope(&agreement);
        if (engaged_) {
          drift_ += kLoopGain * (slope - drift_);
        } else if (std::abs(slope) > kEngagePpm && agreement >= kAgreement) {
          drift_ = slope;
          engaged_ = true;
        }
      }
    }
    window_blocks_ = 0;
    measurable_blocks_ = 0;
  }
  if (!engaged_) return 0.0f;
  pending_ += drift_ * static_cast<double>(block_size_);
  if (std::abs(pending_) < kWarpSamples) return 0.0f;
  const float shift = static_cast<float>(pending_);
  pending_ = 0.0;
  return shift;
}

void ClockDrift::Warp(AdaptiveFilter& filter, RealFft& block_fft, float samples) {
  // A phase ramp over the long transform of the whole response: an exact
  // fractional delay of the response, which is far shorter than the
  // transform, so what wraps around lands in the zero half and is dropped.
  if (!long_fft_) {
    // Once a call, on the first warp (see long_fft_).
    long_fft_ = std::make_unique<RealFft>(LongFftSize(taps_));
    long_time_.assign(long_fft_->size(), 0.0f);
    long_spec_.assign(long_fft_->num_bins(), {});
  }
  filter.ImpulseResponse(block_fft, long_time_.data());
  std::fill(long_time_.begin() + static_cast<std::ptrdiff_t>(taps_), long_time_.end(), 0.0f);
  long_fft_->Forward(long_time_.data(), long_spec_.data());
  // The ramp by recurrence: one complex multiply a bin (in double), not a
  // sine and a cosine.
  const double step = -2.0 * std::numbers::pi * static_cast<double>(samples) /
                      static_cast<double>(long_fft_->size());
  const double turn_re = std::cos(step);
  const double turn_im = std::sin(step);
  double ramp_re = 1.0;
  double ramp_im = 0.0;
  for (std::complex<float>& v : long_spec_) {
    const float re = v.real();
    const float im = v.imag();
    const float c = static_cast<float>(ramp_re);
    const float s = static_cast<float>(ramp_im);
    v = {re * c - im * s, re * s + im * c};
    const double next_re = ramp_re * turn_re - ramp_im * turn_im;
    ramp_im = ramp_re * turn_im + ramp_im * turn_re;
    ramp_re = next_re;
  }
  long_fft_->Inverse(long_spec_.data(), long_time_.data());
  filter.SetImpulseResponse(block_fft, long_time_.data());
}

}  // namespace voicecore::aec
