#include "voicecore/aec/residual_suppressor.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace voicecore::aec {

namespace {
constexpr float kMeanForget = 0.96f;       // ~100 ms means for the fluctuation regression
constexpr float kRegressionRate = 0.05f;   // per block, scaled down when the echo is weak
constexpr float kMinLeakage = 0.0005f;
constexpr float kMaxLeakage = 2.0f;
constexpr float kResidualDecay = 0.6f;     // per block: smears the residual over ~10 ms
constexpr float kOverSubtraction = 2.5f;
constexpr float kMinGain = 0.003f;         // -50 dB
constexpr float kNoiseFall = 0.2f;
constexpr float kNoiseRise = 1.003f;       // ~3 dB/s at 250 blocks/s
constexpr float kTiny = 1e-12f;
}  // namespace

ResidualSuppressor::ResidualSuppressor(std::size_t block_size, std::uint32_t seed)
    : block_size_(block_size),
      fft_size_(2 * block_size),
      num_bins_(block_size + 1),
      fft_(2 * block_size),
      window_(2 * block_size),
      prev_error_(block_size, 0.0f),
      prev_echo_(block_size, 0.0f),
      overlap_(block_size, 0.0f),
      time_(2 * block_size, 0.0f),
      error_spec_(block_size + 1),
      echo_spec_(block_size + 1),
      error_mean_(block_size + 1, 0.0f),
      echo_mean_(block_size + 1, 0.0f),
      residual_(block_size + 1, 0.0f),
      noise_(block_size + 1, 0.0f),
      gain_(block_size + 1, 1.0f),
      seed_(seed == 0 ? 0x9e3779b9u : seed),
      rng_(seed_) {
  // Periodic sqrt-Hann: w^2[n] + w^2[n + B] = 1, so analysis-synthesis with
  // unit gains reconstructs the input exactly.
  for (std::size_t n = 0; n < fft_size_; ++n) {
    window_[n] = static_cast<float>(
        std::sin(std::numbers::pi * static_cast<double>(n) / static_cast<double>(fft_size_)));
  }
}

void ResidualSuppressor::Reset() {
  std::fill(prev_error_.begin(), prev_error_.end(), 0.0f);
  std::fill(prev_echo_.begin(), prev_echo_.end(), 0.0f);
  std::fill(overlap_.begin(), overlap_.end(), 0.0f);
  std::fill(error_mean_.begin(), error_mean_.end(), 0.0f);
  std::fill(echo_mean_.begin(), echo_mean_.end(), 0.0f);
  std::fill(residual_.begin(), residual_.end(), 0.0f);
  std::fill(noise_.begin(), noise_.end(), 0.0f);
  std::fill(gain_.begin(), gain_.end(), 1.0f);
  cov_ey_ = 0.0f;
  var_y_ = 0.0f;
  leakage_ = 1.0f;
  near_talk_ = false;
  mean_gain_ = 1.0f;
  noise_init_ = false;
  rng_ = seed_;
}

float ResidualSuppressor::NextUniform() {
  // xorshift32: cheap, deterministic, good enough for comfort noise phases.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return static_cast<float>(rng_) * (2.0f / 4294967296.0f) - 1.0f;
}

void ResidualSuppressor::Process(const float* error, const float* echo, bool far_active,
                                 float* out) {
  const std::size_t b = block_size_;
  for (std::size_t n = 0; n < b; ++n) {
    time_[n] = prev_error_[n] * window_[n];
    time_[b + n] = error[n] * window_[b + n];
  }
  fft_.Forward(time_.data(), error_spec_.data());
  for (std::size_t n = 0; n < b; ++n) {
    time_[n] = prev_echo_[n] * window_[n];
    time_[b + n] = echo[n] * window_[b + n];
  }
  fft_.Forward(time_.data(), echo_spec_.data());
  std::copy(error, error + b, prev_error_.begin());
  std::copy(echo, echo + b, prev_echo_.begin());

  // Leakage: regression of error-power fluctuations on echo-power fluctuations.
  float cov = 0.0f;
  float var = 0.0f;
  float sum_e = 0.0f;
  float sum_y = 0.0f;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    const float pe = std::norm(error_spec_[k]);
    const float py = std::norm(echo_spec_[k]);
    const float de = pe - error_mean_[k];
    const float dy = py - echo_mean_[k];
    cov += de * dy;
    var += dy * dy;
    error_mean_[k] = kMeanForget * error_mean_[k] + (1.0f - kMeanForget) * pe;
    echo_mean_[k] = kMeanForget * echo_mean_[k] + (1.0f - kMeanForget) * py;
    sum_e += pe;
    sum_y += py;
  }
  if (far_active && sum_y > kTiny) {
    // Learn slower when the error dwarfs the echo estimate (double talk or an
    // unconverged filter): the regression then mostly sees near-end speech.
    const float rate = kRegressionRate * std::min(1.0f, sum_y / (sum_e + kTiny));
    cov_ey_ = (1.0f - rate) * cov_ey_ + rate * cov;
    var_y_ = (1.0f - rate) * var_y_ + rate * var;
    if (var_y_ > kTiny) {
      leakage_ = std::clamp(cov_ey_ / var_y_, kMinLeakage, kMaxLeakage);
    }
  }

  float sum_residual = 0.0f;
  float sum_noise = 0.0f;
  float gain_sum = 0.0f;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    const float pe = std::norm(error_spec_[k]);
    const float py = std::norm(echo_spec_[k]);
    // Noise floor: follows drops quickly, rises slowly (minimum tracking).
    if (!noise_init_) {
      noise_[k] = pe;
    } else if (pe < noise_[k]) {
      noise_[k] += kNoiseFall * (pe - noise_[k]);
    } else {
      noise_[k] *= kNoiseRise;
    }
    residual_[k] = std::max(leakage_ * py, kResidualDecay * residual_[k]);
    float g = 1.0f - kOverSubtraction * residual_[k] / (pe + kTiny);
    g = std::clamp(g, kMinGain, 1.0f);
    gain_[k] = g;
    gain_sum += g;
    sum_residual += residual_[k];
    sum_noise += noise_[k];
    // Comfort noise fills what the gain removed, at the noise floor's level.
    const float fill = std::sqrt(std::max(0.0f, (1.0f - g * g) * noise_[k]) * 1.5f);
    error_spec_[k] = error_spec_[k] * g + std::complex<float>(fill * NextUniform(), fill * NextUniform());
  }
  noise_init_ = true;
  mean_gain_ = gain_sum / static_cast<float>(num_bins_);
  near_talk_ = far_active && sum_e > 4.0f * (sum_residual + sum_noise);
  // Bins 0 and N/2 of a real signal are real.
  error_spec_[0] = {error_spec_[0].real(), 0.0f};
  error_spec_[num_bins_ - 1] = {error_spec_[num_bins_ - 1].real(), 0.0f};

  fft_.Inverse(error_spec_.data(), time_.data());
  for (std::size_t n = 0; n < b; ++n) {
    out[n] = overlap_[n] + time_[n] * window_[n];
    overlap_[n] = time_[b + n] * window_[b + n];
  }
}

}  // namespace voicecore::aec
