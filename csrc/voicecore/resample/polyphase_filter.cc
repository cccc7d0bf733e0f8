#include "voicecore/resample/polyphase_filter.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace voicecore::resample {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Zeroth-order modified Bessel function of the first kind (power series; it
// converges quickly for the beta values a Kaiser design uses, < 20).
// Multiplying by precomputed 1/k^2 keeps divisions out of the dependent chain
// (table construction evaluates this L*K/2 times).
double BesselI0(double x) {
  static const auto kInvSquares = [] {
    std::array<double, 128> t{};
    for (std::size_t k = 1; k < t.size(); ++k) t[k] = 1.0 / (static_cast<double>(k * k));
    return t;
  }();
  const double q = 0.25 * x * x;
  double term = 1.0;
  double sum = 1.0;
  for (std::size_t k = 1; k < kInvSquares.size(); ++k) {
    term *= q * kInvSquares[k];
    sum += term;
    if (term < sum * 1e-21) break;
  }
  return sum;
}

// Kaiser's beta for a stopband attenuation in dB.
double KaiserBeta(double attenuation_db) {
  if (attenuation_db > 50.0) return 0.1102 * (attenuation_db - 8.7);
  if (attenuation_db >= 21.0) {
    return 0.5842 * std::pow(attenuation_db - 21.0, 0.4) + 0.07886 * (attenuation_db - 21.0);
  }
  return 0.0;
}

std::size_t RoundUp(std::size_t n, std::size_t align) { return (n + align - 1) / align * align; }

}  // namespace

PolyphaseFilter::PolyphaseFilter(std::int64_t interpolation, std::int64_t decimation,
                                 const QualitySpec& spec)
    : double_precision_(spec.double_precision) {
  const double l = static_cast<double>(interpolation);
  const double m = static_cast<double>(decimation);
  // Bandwidth of the output relative to the input: the filter runs on the
  // input time axis, so a decimating filter is stretched by M/L.
  const double rel = std::min(1.0, l / m);
  cutoff_ = 0.5 * rel * 0.5 * (spec.passband_edge + spec.stopband_edge);
  const double transition = 0.5 * rel * (spec.stopband_edge - spec.passband_edge);
  // Kaiser's length estimate, in input samples.
  const double length = (spec.attenuation_db - 7.95) / (2.285 * 2.0 * kPi * transition);
  std::size_t taps = static_cast<std::size_t>(std::ceil(length));
  taps += taps & 1u;
  // Every output must advance its window by less than the window itself, so a
  // block of input always leaves the next window partly in the buffer.
  const auto max_step = static_cast<std::size_t>((decimation + interpolation - 1) / interpolation);
  taps = std::max(taps, 2 * max_step + 2);
  num_taps_ = taps;
  padded_taps_ = RoundUp(taps, kTapAlign);
  half_width_ = 0.5 * static_cast<double>(taps);
  beta_ = KaiserBeta(spec.attenuation_db);
  inv_i0_beta_ = 1.0 / BesselI0(beta_);

  const std::size_t sample_bytes = double_precision_ ? sizeof(double) : sizeof(float);
  const auto exact_phases = static_cast<std::size_t>(interpolation);
  std::size_t grid = exact_phases;
  if (interpolation > kMaxExactPhases ||
      exact_phases * padded_taps_ * sample_bytes > kMaxTableBytes) {
    // Linear blending of neighbouring phases errs by about (pi*2fc/P)^2/8, so
    // a narrower (decimating) prototype needs proportionally fewer phases.
    interpolated_ = true;
    grid = std::max<std::size_t>(
        64, static_cast<std::size_t>(std::ceil(spec.interp_phases * rel)));
    num_phases_ = grid + 1;
  } else {
    num_phases_ = exact_phases;
  }

  // Every tap lag is a multiple of 1/grid and g is even, so evaluate g once
  // per distinct |lag| and fill the rows by lookup.
  const auto half_taps = static_cast<std::int64_t>(num_taps_ / 2);
  const auto g = static_cast<std::int64_t>(grid);
  std::vector<double> half_proto(static_cast<std::size_t>(half_taps * g + 1));
  for (std::size_t j = 0; j < half_proto.size(); ++j) {
    half_proto[j] = Prototype(static_cast<double>(j) / static_cast<double>(grid));
  }
  std::vector<double> row(padded_taps_);
  if (double_precision_) {
    f64_.assign(num_phases_ * padded_taps_, 0.0);
  } else {
    f32_.assign(num_phases_ * padded_taps_, 0.0f);
  }
  for (std::size_t phase = 0; phase < num_phases_; ++phase) {
    double sum = 0.0;
    for (std::size_t t = 0; t < num_taps_; ++t) {
      // Window slot t holds x[n0 - K/2 + 1 + t], i.e. lag phase/grid + K/2 - 1 - t.
      const std::int64_t lag =
          static_cast<std::int64_t>(phase) + (half_taps - 1 - static_cast<std::int64_t>(t)) * g;
      const auto idx = static_cast<std::size_t>(lag < 0 ? -lag : lag);
      row[t] = idx < half_proto.size() ? half_proto[idx] : 0.0;
      sum += row[t];
    }
    // Unit DC gain on every phase: otherwise the per-phase gain error is a
    // periodic modulation that images a DC offset across the band.
    const double scale = 1.0 / sum;
    for (std::size_t t = 0; t < num_taps_; ++t) {
      if (double_precision_) {
        f64_[phase * padded_taps_ + t] = row[t] * scale;
      } else {
        f32_[phase * padded_taps_ + t] = static_cast<float>(row[t] * scale);
      }
    }
  }
}

double PolyphaseFilter::Prototype(double t) const {
  if (std::abs(t) > half_width_) return 0.0;
  const double x = 2.0 * cutoff_ * t;
  const double sinc = (x == 0.0) ? 1.0 : std::sin(kPi * x) / (kPi * x);
  const double r = t / half_width_;
  const double window = BesselI0(beta_ * std::sqrt(std::max(0.0, 1.0 - r * r))) * inv_i0_beta_;
  return 2.0 * cutoff_ * sinc * window;
}

}  // namespace voicecore::resample
