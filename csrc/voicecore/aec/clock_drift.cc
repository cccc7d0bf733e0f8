#include "voicecore/aec/clock_drift.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace voicecore::aec {
namespace {

// A measurement window: about one second of blocks, of which at least 40 %
// far-end single talk.
constexpr int kWindowBlocks = 250;
constexpr int kMinMeasurableBlocks = 100;
// Windows in the slope (about 8 s; also the fewest that engage).
constexpr std::size_t kHistory = 8;
// A history starts on a window whose own correlation peak stands this far
// over its RMS over all lags (an echo is there, near the reference block).
constexpr double kStartPeakRatio = 3.0;
// A pair of windows counts when this share of the bins agrees on the shift.
constexpr double kMinStrength = 0.2;
// The fractional search around the integer peak: steps per sample.
constexpr int kFineSteps = 16;
// A window more than half of whose shifts against the history sit further
// than this from the line (samples; the drift moves the path 1.6 samples a
// second at 100 ppm) is a misfit; three in a row start the history over.
constexpr double kMisfit = 4.0;
constexpr int kMaxMisfits = 3;
// The fastest drift followed (per sample; 300 ppm).
constexpr double kMaxDrift = 300e-6;
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

// sum over bins 1 .. n/2 - 1 of Re(c(k) e^{j 2 pi k lag / n}): the
// correlation of spectrum c at a fractional lag. The phase ramp by
// recurrence (one complex multiply a bin, in double), not a sine and a
// cosine a bin: a window's pairs take 8 x 33 of these, in the audio path.
double CorrelationAt(const std::vector<std::complex<float>>& c, std::size_t n, double lag) {
  const double w = 2.0 * std::numbers::pi * lag / static_cast<double>(n);
  const double turn_re = std::cos(w);
  const double turn_im = std::sin(w);
  double ramp_re = turn_re;
  double ramp_im = turn_im;
  double sum = 0.0;
  for (std::size_t k = 1; k < n / 2; ++k) {
    sum += c[k].real() * ramp_re - c[k].imag() * ramp_im;
    const double next_re = ramp_re * turn_re - ramp_im * turn_im;
    ramp_im = ramp_re * turn_im + ramp_im * turn_re;
    ramp_re = next_re;
  }
  return sum;
}

// The peak of the correlation of `c` (corr: its inverse transform, n lags):
// the integer peak, then the largest value on a fine grid within a sample of
// it, then a parabola through that and its neighbours. Returns the lag
// (signed samples) and in `height` the correlation there.
double FinePeak(const std::vector<std::complex<float>>& c, const std::vector<float>& corr, double* height) {
  const std::size_t n = corr.size();
  std::size_t best = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (corr[i] > corr[best]) best = i;
  }
  const double lag0 = best < n / 2 ? static_cast<double>(best) : static_cast<double>(best) - static_cast<double>(n);
  const double step = 1.0 / kFineSteps;
  double top_lag = lag0;
  double top = -1e30;
  double before = 0.0;
  double after = 0.0;
  double prev = CorrelationAt(c, n, lag0 - 1.0 - step);
  double cur = CorrelationAt(c, n, lag0 - 1.0);
  for (int i = -kFineSteps; i <= kFineSteps; ++i) {
    const double lag = lag0 + static_cast<double>(i) * step;
    const double next = CorrelationAt(c, n, lag + step);
    if (cur > top) {
      top = cur;
      top_lag = lag;
      before = prev;
      after = next;
    }
    prev = cur;
    cur = next;
  }
  const double den = before - 2.0 * top + after;
  const double frac = den < 0.0 ? 0.5 * (before - after) / den : 0.0;
  *height = top;
  return top_lag + frac * step;
}

}  // namespace

ClockDrift::ClockDrift(std::size_t block_size, std::size_t num_partitions)
    : block_size_(block_size),
      taps_(block_size * num_partitions),
      now_(taps_, 0.0f),
      cross_(block_size + 1),
      pair_(block_size + 1),
      corr_(2 * block_size, 0.0f),
      windows_(kHistory + 1) {
  // Once a second, in the audio path: no allocation there.
  for (Window& w : windows_) {
    w.phat.assign(block_size + 1, {});
    w.shift.assign(kHistory, 0.0);
    w.strength.assign(kHistory, 0.0);
  }
  slopes_.reserve(kHistory * (kHistory - 1) / 2);
}

void ClockDrift::Reset() {
  window_blocks_ = 0;
  measurable_blocks_ = 0;
  clock_ = 0.0;
  first_ = 0;
  count_ = 0;
  misfits_ = 0;
  engaged_ = false;
  drift_ = 0.0;
  pending_ = 0.0;
  std::fill(cross_.begin(), cross_.end(), std::complex<double>{});
  have_ref_ = false;
  ref_block_ = 0;
}

bool ClockDrift::ReferenceFromFilter(const AdaptiveFilter& foreground, RealFft& block_fft,
                                     std::size_t offset) {
  foreground.ImpulseResponse(block_fft, now_.data());
  // A partition's first tap is left out: between gradient constraints a
  // partition's wrapped error collects there (a spike as strong as the
  // direct path while the filter re-learns).
  std::size_t strongest = 1;
  for (std::size_t n = 1; n < taps_; ++n) {
    if (n % block_size_ != 0 && std::fabs(now_[n]) > std::fabs(now_[strongest])) strongest = n;
  }
  if (now_[strongest] == 0.0f) return false;
  ref_block_ = static_cast<long>(offset + (strongest + block_size_ / 2) / block_size_);
  return true;
}

void ClockDrift::Transform(Window& w, RealFft& block_fft, double* peak_lag, double* peak_ratio) {
  // Phase transform: every bin of the cross-spectrum at unit magnitude, so
  // each frequency votes for the lag equally and the peak is as sharp as
  // the room's response, whatever the speech's colour. DC and Nyquist carry
  // no lag.
  w.phat[0] = {};
  w.phat[block_size_] = {};
  for (std::size_t k = 1; k < block_size_; ++k) {
    const double m = std::abs(cross_[k]);
    w.phat[k] = m > 0.0 ? std::complex<float>(static_cast<float>(cross_[k].real() / m),
                                              static_cast<float>(cross_[k].imag() / m))
                        : std::complex<float>{};
  }
  block_fft.Inverse(w.phat.data(), corr_.data());
  double energy = 0.0;
  for (float v : corr_) energy += static_cast<double>(v) * v;
  const double rms = std::sqrt(energy / static_cast<double>(corr_.size()));
  std::size_t best = 0;
  for (std::size_t i = 1; i < corr_.size(); ++i) {
    if (corr_[i] > corr_[best]) best = i;
  }
  const std::size_t n = corr_.size();
  *peak_lag = best < n / 2 ? static_cast<double>(best) : static_cast<double>(best) - static_cast<double>(n);
  *peak_ratio = rms > 0.0 ? corr_[best] / rms : 0.0;
}

double ClockDrift::Shift(const Window& a, const Window& b, RealFft& block_fft, double* strength) {
  // b's correlation is a's moved by the path's motion: the product of b's
  // spectrum with a's conjugate is a pure phase ramp whose lag is that
  // motion. Every reflection of the room votes, not only the strongest (the
  // windows' own peaks jump between taps of about equal height). A
  // different reference block moves b's correlation by whole blocks: undone
  // here (a block of lag is a sign flip every other bin of this transform,
  // whose size is two blocks, so a block either way is the same flip).
  const long dref = b.ref - a.ref;
  const bool flip = (dref % 2) != 0;
  pair_[0] = {};
  pair_[block_size_] = {};
  for (std::size_t k = 1; k < block_size_; ++k) {
    std::complex<float> v = b.phat[k] * std::conj(a.phat[k]);
    if (flip && (k % 2) != 0) v = -v;
    pair_[k] = v;
  }
  block_fft.Inverse(pair_.data(), corr_.data());
  double height = 0.0;
  const double lag = FinePeak(pair_, corr_, &height);
  *strength = height / static_cast<double>(block_size_ - 1);
  return lag;
}

double ClockDrift::Slope(double* agreement) const {
  std::vector<double>& slopes = slopes_;
  slopes.clear();
  for (std::size_t j = 1; j < count_; ++j) {
    const Window& b = At(j);
    for (std::size_t k = 1; k <= j; ++k) {
      if (b.strength[k - 1] < kMinStrength) continue;
      slopes.push_back(b.shift[k - 1] / (b.time - At(j - k).time));
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

float ClockDrift::Step(const AdaptiveFilter& foreground, const FarSpectrumBuffer& far,
                       const std::complex<float>* near, RealFft& block_fft, bool measurable,
                       std::size_t offset) {
  clock_ += static_cast<double>(block_size_);
  ++window_blocks_;
  if (measurable && have_ref_ && ref_block_ >= 0 && static_cast<std::size_t>(ref_block_) < far.depth()) {
    const float* xr = far.re(static_cast<std::size_t>(ref_block_));
    const float* xi = far.im(static_cast<std::size_t>(ref_block_));
    for (std::size_t k = 1; k < block_size_; ++k) {
      // Both blocks through a Hann window, applied here as its three-bin
      // convolution on the rectangular spectra: with rectangular blocks the
      // cross-correlation is weighted by a triangle over the lag, whose cusp
      // at lag 0 the phase transform turns into a peak of its own.
      const std::complex<double> nw = 0.5 * std::complex<double>(near[k]) -
                                      0.25 * (std::complex<double>(near[k - 1]) + std::complex<double>(near[k + 1]));
      const std::complex<double> xw(0.5 * xr[k] - 0.25 * (xr[k - 1] + xr[k + 1]),
                                    0.5 * xi[k] - 0.25 * (xi[k - 1] + xi[k + 1]));
      cross_[k] += nw * std::conj(xw);
    }
    ++measurable_blocks_;
  }
  if (window_blocks_ >= kWindowBlocks) {
    if (measurable_blocks_ >= kMinMeasurableBlocks) {
      // The newest window is filled in the ring's spare slot.
      Window& w = windows_[(first_ + count_) % windows_.size()];
      w.time = clock_;
      w.ref = ref_block_;
      double peak_lag = 0.0;
      double peak_ratio = 0.0;
      Transform(w, block_fft, &peak_lag, &peak_ratio);
      bool fits = false;
      if (count_ == 0) {
        fits = peak_ratio >= kStartPeakRatio;
      } else {
        double agreement = 0.0;
        const double slope = count_ >= 2 ? Slope(&agreement) : 0.0;
        double misses = 0.0;
        double counted = 0.0;
        for (std::size_t k = 1; k <= count_; ++k) {
          const Window& a = At(count_ - k);
          double strength = 0.0;
          w.shift[k - 1] = Shift(a, w, block_fft, &strength);
          w.strength[k - 1] = strength;
          if (strength < kMinStrength) continue;
          const double dt = w.time - a.time;
          // With no slope yet, the path may have moved at up to kMaxDrift.
          const double allowed = count_ >= 2 ? kMisfit : kMisfit + kMaxDrift * dt;
          counted += 1.0;
          if (std::abs(w.shift[k - 1] - slope * dt) > allowed) misses += 1.0;
        }
        fits = counted > 0.0 && misses <= 0.5 * counted;
      }
      if (fits) {
        misfits_ = 0;
        if (count_ == kHistory) {
          first_ = (first_ + 1) % windows_.size();
        } else {
          ++count_;
        }
        // Keep the path near the middle of the reference block's lags.
        if (peak_lag > 0.5 * static_cast<double>(block_size_)) ++ref_block_;
        if (peak_lag < -0.5 * static_cast<double>(block_size_) && ref_block_ > 0) --ref_block_;
        if (count_ >= kHistory) {
          double agreement = 0.0;
          const double slope = Slope(&agreement);
          if (engaged_) {
            drift_ += kLoopGain * (slope - drift_);
          } else if (std::abs(slope) > kEngagePpm && agreement >= kAgreement) {
            drift_ = slope;
            engaged_ = true;
          }
        }
      } else if (count_ > 0 && ++misfits_ >= kMaxMisfits) {
        // Off the line three windows in a row: the path moved (a new room, a
        // delay change). Start over.
        misfits_ = 0;
        count_ = 0;
      }
    }
    if (count_ == 0) {
      // No history: correlate the next window where the filter puts the path
      // (a filter that has not learnt anything yet gives no reference).
      have_ref_ = ReferenceFromFilter(foreground, block_fft, offset);
    }
    std::fill(cross_.begin(), cross_.end(), std::complex<double>{});
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
