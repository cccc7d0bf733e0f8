#include "voicecore/vad/vad_features.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

namespace voicecore::vad {

namespace {

// 16 ms of analysis at every rate (21 ms at 48 kHz, the next power of two).
std::size_t FftSizeFor(int sample_rate_hz) {
  switch (sample_rate_hz) {
    case 8000:
      return 128;
    case 16000:
      return 256;
    case 32000:
      return 512;
    default:
      return 1024;
  }
}

// Band edges in Hz. The top band is absent at 8 kHz (features read 0 there).
constexpr std::array<float, kNumBands + 1> kBandEdgesHz = {60.f,   250.f,  500.f, 1000.f,
                                                           2000.f, 4000.f, 8000.f};

// Power floor (about -100 dB re full scale per bin) so digital silence gives
// finite logarithms and 0 dB SNR rather than huge ratios of tiny numbers.
constexpr float kPowerFloor = 1e-10f;
// Minimum statistics underestimate the mean noise power; 2x (3 dB) is about
// the bias for our smoothing and band widths.
constexpr float kMinBias = 2.0f;
constexpr float kSmoothing = 0.8f;
// Decay of the level peak per 10 ms hop: 2 dB/s keeps the talker's level through
// pauses of several seconds yet follows a talker who gets quieter.
constexpr float kPeakDecayDb = 0.02f;
// A talker's level is established by kPeakConfirmHops consecutive hops at least
// kPeakMarginDb above the noise floor (50 ms of speech at about 6 dB SNR or better);
// before that the feature reads kUnknownPeakFeature (as if 10 dB below a peak).
constexpr float kPeakMarginDb = 6.0f;
constexpr int kPeakConfirmHops = 5;
constexpr float kUnknownPeakFeature = -0.5f;

float ToDb(float power) { return 10.0f * std::log10(power); }

float Clip(float v, float lo, float hi) { return std::min(hi, std::max(lo, v)); }

}  // namespace

VadFeatures::VadFeatures(int sample_rate_hz)
    : sample_rate_hz_(sample_rate_hz),
      hop_size_(static_cast<std::size_t>(sample_rate_hz / 100)),
      fft_size_(FftSizeFor(sample_rate_hz)),
      decimation_(static_cast<std::size_t>(sample_rate_hz / 4000)),
      spectrum_(FftSizeFor(sample_rate_hz)),
      window_(fft_size_),
      history_(fft_size_),
      power_(fft_size_ / 2 + 1) {
  window_power_ = 0.0f;
  for (std::size_t i = 0; i < fft_size_; ++i) {
    const double phase = 2.0 * std::numbers::pi * (static_cast<double>(i) + 0.5) /
                         static_cast<double>(fft_size_);
    window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(phase));
    window_power_ += window_[i] * window_[i];
  }
  const float bin_hz = static_cast<float>(sample_rate_hz) / static_cast<float>(fft_size_);
  const int nyquist_bin = static_cast<int>(fft_size_ / 2);
  for (int b = 0; b <= kNumBands; ++b) {
    const int bin = static_cast<int>(std::lround(kBandEdgesHz[static_cast<std::size_t>(b)] / bin_hz));
    band_edges_[static_cast<std::size_t>(b)] = std::min(bin, nyquist_bin);
  }
  band_edges_[0] = std::max(band_edges_[0], 1);
  flat_lo_ = static_cast<int>(std::lround(250.0f / bin_hz));
  flat_hi_ = std::min(static_cast<int>(std::lround(4000.0f / bin_hz)), nyquist_bin);
  Reset();
}

void VadFeatures::Reset() {
  std::fill(history_.begin(), history_.end(), 0.0f);
  band_power_.fill(0.0f);
  smoothed_power_.fill(0.0f);
  noise_power_.fill(kPowerFloor);
  current_min_.fill(std::numeric_limits<float>::infinity());
  for (auto& row : subblock_min_) row.fill(std::numeric_limits<float>::infinity());
  subblock_fill_ = 0;
  subblock_index_ = 0;
  first_hop_ = true;
  pitch_buffer_.fill(0.0f);
  pitch_energy_prefix_.fill(0.0);
  hp_prev_in_ = hp_prev_out_ = 0.0f;
  snr_fast_ = snr_slow_ = snr_peak_ = snr_long_ = 0.0f;
  flatness_avg_ = 0.0f;
  periodicity_avg_ = periodicity_peak_ = 0.0f;
  prev_level_db_ = -100.0f;
  level_fast_db_ = level_peak_db_ = -100.0f;
  above_floor_hops_ = 0;
  peak_established_ = false;
  talker_snr_db_ = kNoTalkerSnrDb;
}

void VadFeatures::UpdateNoiseFloor() {
  for (int b = 0; b < kNumBands; ++b) {
    const auto i = static_cast<std::size_t>(b);
    smoothed_power_[i] =
        first_hop_ ? band_power_[i]
                   : kSmoothing * smoothed_power_[i] + (1.0f - kSmoothing) * band_power_[i];
    current_min_[i] = std::min(current_min_[i], smoothed_power_[i]);
  }
  first_hop_ = false;
  if (++subblock_fill_ == kSubblockHops) {
    subblock_min_[static_cast<std::size_t>(subblock_index_)] = current_min_;
    subblock_index_ = (subblock_index_ + 1) % kSubblocks;
    subblock_fill_ = 0;
    current_min_.fill(std::numeric_limits<float>::infinity());
  }
  for (int b = 0; b < kNumBands; ++b) {
    const auto i = static_cast<std::size_t>(b);
    float m = current_min_[i];
    for (const auto& row : subblock_min_) m = std::min(m, row[i]);
    // Right after a subblock boundary with no finished subblock yet, fall back
    // to the smoothed power itself.
    if (!std::isfinite(m)) m = smoothed_power_[i];
    noise_power_[i] = std::max(kMinBias * m, kPowerFloor);
  }
}

float VadFeatures::Periodicity(const float* hop) {
  // Decimate to 4 kHz with a box average (enough anti-aliasing for a pitch
  // strength measure), then a one-pole DC/hum blocker at about 80 Hz so mains
  // hum and rumble do not look periodic at every lag.
  constexpr float kHpPole = 0.882f;  // exp(-2 pi 80 / 4000)
  const std::size_t out_count = hop_size_ / decimation_;  // 40
  const std::size_t keep = static_cast<std::size_t>(kPitchBuffer) - out_count;
  std::memmove(pitch_buffer_.data(), pitch_buffer_.data() + out_count, keep * sizeof(float));
  const float inv = 1.0f / static_cast<float>(decimation_);
  for (std::size_t j = 0; j < out_count; ++j) {
    float acc = 0.0f;
    const float* p = hop + j * decimation_;
    for (std::size_t d = 0; d < decimation_; ++d) acc += p[d];
    const float in = acc * inv;
    const float out = in - hp_prev_in_ + kHpPole * hp_prev_out_;
    hp_prev_in_ = in;
    hp_prev_out_ = out;
    pitch_buffer_[keep + j] = out;
  }
  double run = 0.0;
  pitch_energy_prefix_[0] = 0.0;
  for (int n = 0; n < kPitchBuffer; ++n) {
    const double v = pitch_buffer_[static_cast<std::size_t>(n)];
    run += v * v;
    pitch_energy_prefix_[static_cast<std::size_t>(n) + 1] = run;
  }
  const float* cur = pitch_buffer_.data() + kPitchMaxLag;
  const double e0 = pitch_energy_prefix_[kPitchBuffer] - pitch_energy_prefix_[kPitchMaxLag];
  if (e0 <= 1e-9) return 0.0f;
  const auto nccf = [&](int lag) {
    const float* past = cur - lag;
    // Four partial sums so the compiler can vectorise without -ffast-math.
    float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
    for (int n = 0; n < kPitchWindow; n += 4) {
      s0 += cur[n] * past[n];
      s1 += cur[n + 1] * past[n + 1];
      s2 += cur[n + 2] * past[n + 2];
      s3 += cur[n + 3] * past[n + 3];
    }
    const float dot = (s0 + s1) + (s2 + s3);
    if (dot <= 0.0f) return 0.0f;
    const auto start = static_cast<std::size_t>(kPitchMaxLag - lag);
    const double ek = pitch_energy_prefix_[start + kPitchWindow] - pitch_energy_prefix_[start];
    return static_cast<float>(dot / std::sqrt(e0 * ek + 1e-18));
  };
  // Coarse search on even lags, then the two odd neighbours of the best: at 4 kHz the
  // autocorrelation peak of a voiced frame is several lags wide, so this finds the same
  // maximum with about half the dot products.
  float best = 0.0f;
  int best_lag = kPitchMinLag;
  for (int lag = kPitchMinLag; lag <= kPitchMaxLag; lag += 2) {
    const float c = nccf(lag);
    if (c > best) {
      best = c;
      best_lag = lag;
    }
  }
  if (best_lag > kPitchMinLag) best = std::max(best, nccf(best_lag - 1));
  if (best_lag < kPitchMaxLag) best = std::max(best, nccf(best_lag + 1));
  return std::min(best, 1.0f);
}

void VadFeatures::Analyze(const float* hop, float* features) {
  const std::size_t keep = fft_size_ - hop_size_;
  std::memmove(history_.data(), history_.data() + hop_size_, keep * sizeof(float));
  std::memcpy(history_.data() + keep, hop, hop_size_ * sizeof(float));
  spectrum_.Compute(history_.data(), window_.data(), power_.data());

  // Band powers as mean per-bin power spectral density (white noise of
  // variance s^2 reads s^2 in every band), and flatness over 250-4000 Hz.
  const float norm = 1.0f / window_power_;
  double log_sum = 0.0, lin_sum = 0.0;
  for (int b = 0; b < kNumBands; ++b) {
    const int lo = band_edges_[static_cast<std::size_t>(b)];
    const int hi = band_edges_[static_cast<std::size_t>(b) + 1];
    float acc = 0.0f;
    for (int k = lo; k < hi; ++k) acc += power_[static_cast<std::size_t>(k)];
    band_power_[static_cast<std::size_t>(b)] =
        hi > lo ? acc * norm / static_cast<float>(hi - lo) : 0.0f;
  }
  for (int k = flat_lo_; k < flat_hi_; ++k) {
    const float p = power_[static_cast<std::size_t>(k)] * norm + kPowerFloor;
    log_sum += std::log(p);
    lin_sum += p;
  }
  const double n_flat = static_cast<double>(flat_hi_ - flat_lo_);
  const float flatness =
      static_cast<float>(log_sum / n_flat - std::log(lin_sum / n_flat));  // <= 0

  UpdateNoiseFloor();

  float snr_sum = 0.0f, total_power = 0.0f, total_noise = 0.0f;
  int present = 0;
  for (int b = 0; b < kNumBands; ++b) {
    const auto i = static_cast<std::size_t>(b);
    const bool has_band = band_edges_[i + 1] > band_edges_[i];
    float snr_db = 0.0f;
    if (has_band) {
      snr_db = Clip(ToDb((band_power_[i] + kPowerFloor) / noise_power_[i]), -10.0f, 40.0f);
      snr_sum += snr_db;
      total_power += band_power_[i] * static_cast<float>(band_edges_[i + 1] - band_edges_[i]);
      total_noise += noise_power_[i] * static_cast<float>(band_edges_[i + 1] - band_edges_[i]);
      ++present;
    }
    features[b] = 0.1f * snr_db;
  }
  const float mean_snr = snr_sum / static_cast<float>(present);
  const float full_snr = Clip(ToDb((total_power + kPowerFloor) / total_noise), -10.0f, 40.0f);
  const float level_db = ToDb(total_power + kPowerFloor);
  const float delta_db = Clip(level_db - prev_level_db_, -20.0f, 20.0f);
  prev_level_db_ = level_db;
  level_fast_db_ = 0.5f * level_fast_db_ + 0.5f * level_db;
  level_peak_db_ = std::max(level_fast_db_, level_peak_db_ - kPeakDecayDb);
  if (!peak_established_) {
    above_floor_hops_ = level_fast_db_ >= ToDb(total_noise + kPowerFloor) + kPeakMarginDb
                            ? above_floor_hops_ + 1
                            : 0;
    peak_established_ = above_floor_hops_ >= kPeakConfirmHops;
  }
  if (peak_established_) talker_snr_db_ = level_peak_db_ - ToDb(total_noise + kPowerFloor);

  snr_fast_ = 0.5f * snr_fast_ + 0.5f * mean_snr;
  snr_slow_ = 0.9f * snr_slow_ + 0.1f * mean_snr;
  snr_long_ = 0.97f * snr_long_ + 0.03f * mean_snr;
  snr_peak_ = std::max(mean_snr, snr_peak_ - 0.5f);
  flatness_avg_ = 0.8f * flatness_avg_ + 0.2f * flatness;

  const float periodicity = Periodicity(hop);
  periodicity_avg_ = 0.7f * periodicity_avg_ + 0.3f * periodicity;
  periodicity_peak_ = std::max(periodicity, periodicity_peak_ - 0.03f);

  features[6] = 0.1f * snr_fast_;
  features[7] = 0.1f * snr_slow_;
  features[8] = 0.1f * snr_peak_;
  features[9] = 0.1f * snr_long_;
  features[10] = 0.1f * full_snr;
  features[11] = 0.05f * delta_db;
  features[12] = Clip(flatness, -8.0f, 0.0f);
  features[13] = Clip(flatness_avg_, -8.0f, 0.0f);
  features[14] = periodicity;
  features[15] = periodicity_avg_;
  features[16] = periodicity_peak_;
  features[17] = peak_established_ ? 0.05f * Clip(level_fast_db_ - level_peak_db_, -40.0f, 0.0f)
                                    : kUnknownPeakFeature;
}

}  // namespace voicecore::vad
