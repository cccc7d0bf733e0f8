#include "voicecore/aec/residual_suppressor.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace voicecore::aec {

namespace {
constexpr float kMinGain = 0.003f;         // -50 dB
constexpr float kNoiseFall = 0.2f;
constexpr float kNoiseRise = 1.003f;       // ~3 dB/s at 250 blocks/s
constexpr float kTiny = 1e-12f;
// Spectral smoothing for the coherences (~20 ms).
constexpr float kCohForget = 0.8f;
// Coherence below this is estimation bias (about 1 / effective averages).
constexpr float kCohBias = 0.1f;
// Over-subtraction of the coherent residual while the near end talks / not.
constexpr float kOverDoubleTalk = 0.6f;
constexpr float kOverSingleTalk = 6.0f;
// Extra weight of the power-leak residual relative to the over-subtraction.
constexpr float kLeakOver = 1.2f;
constexpr float kLeakForget = 0.99f;  // ~400 ms
// Near-end talk: mic energy incoherent with both echo estimates exceeds 30x
// the noise floor and 0.6x the coherent (echo) energy.
constexpr float kTalkNoiseRatio = 30.0f;
constexpr float kTalkEchoRatio = 0.6f;
constexpr int kHangoverBlocks = 25;  // 100 ms
constexpr float kMaxLeak = 1.0f;
// Per-block decay of the residual estimate: it models the reverberant tail
// (0.87 per 4 ms is an RT60 of 0.4 s); shorter while the near end talks.
constexpr float kResidualDecay = 0.85f;
constexpr float kResidualDecayTalk = 0.7f;
// a * conj(b), spelt out: std::complex multiplication compiles to NaN-checking
// library calls without -ffast-math.
inline std::complex<float> MulConj(std::complex<float> a, std::complex<float> b) {
  return {a.real() * b.real() + a.imag() * b.imag(), a.imag() * b.real() - a.real() * b.imag()};
}
inline float Norm(std::complex<float> a) { return a.real() * a.real() + a.imag() * a.imag(); }
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
      residual_(block_size + 1, 0.0f),
      noise_(block_size + 1, 0.0f),
      gain_(block_size + 1, 1.0f),
      see_(block_size + 1, 0.0f),
      syy_(block_size + 1, 0.0f),
      sey_(block_size + 1),
      coherence_(block_size + 1, 0.0f),
      leak_num_(block_size + 1, 0.0f),
      leak_den_(block_size + 1, 0.0f),
      prev_near_(block_size, 0.0f),
      near_spec_(block_size + 1),
      smm_(block_size + 1, 0.0f),
      smy_(block_size + 1),
      prev_shadow_(block_size, 0.0f),
      shadow_spec_(block_size + 1),
      sss_(block_size + 1, 0.0f),
      sms_(block_size + 1),
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
  std::fill(residual_.begin(), residual_.end(), 0.0f);
  std::fill(noise_.begin(), noise_.end(), 0.0f);
  std::fill(gain_.begin(), gain_.end(), 1.0f);
  std::fill(see_.begin(), see_.end(), 0.0f);
  std::fill(leak_num_.begin(), leak_num_.end(), 0.0f);
  std::fill(leak_den_.begin(), leak_den_.end(), 0.0f);
  std::fill(prev_near_.begin(), prev_near_.end(), 0.0f);
  std::fill(smm_.begin(), smm_.end(), 0.0f);
  std::fill(prev_shadow_.begin(), prev_shadow_.end(), 0.0f);
  std::fill(sss_.begin(), sss_.end(), 0.0f);
  std::fill(sms_.begin(), sms_.end(), std::complex<float>{});
  std::fill(smy_.begin(), smy_.end(), std::complex<float>{});
  std::fill(syy_.begin(), syy_.end(), 0.0f);
  std::fill(sey_.begin(), sey_.end(), std::complex<float>{});
  leakage_ = 0.0f;
  hangover_ = 0;
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

void ResidualSuppressor::Process(const float* near, const float* error, const float* echo,
                                 const float* shadow_echo, const float* echo_power, bool far_active,
                                 bool external_talk, float* out) {
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
  for (std::size_t n = 0; n < b; ++n) {
    time_[n] = prev_near_[n] * window_[n];
    time_[b + n] = near[n] * window_[b + n];
  }
  fft_.Forward(time_.data(), near_spec_.data());
  std::copy(near, near + b, prev_near_.begin());
  for (std::size_t n = 0; n < b; ++n) {
    time_[n] = prev_shadow_[n] * window_[n];
    time_[b + n] = shadow_echo[n] * window_[b + n];
  }
  fft_.Forward(time_.data(), shadow_spec_.data());
  std::copy(shadow_echo, shadow_echo + b, prev_shadow_.begin());
  std::copy(error, error + b, prev_error_.begin());
  std::copy(echo, echo + b, prev_echo_.begin());

  // Residual echo per bin = the part of the error power that is linearly
  // coherent with the echo estimate. Within one bin both the residual echo and
  // the echo estimate are linear functions of the far signal, so in single
  // talk their coherence is near 1 however far the filter is from converged;
  // near-end speech and noise are incoherent with it and are kept.
  float sum_e = 0.0f;
  float sum_coherent = 0.0f;
  float sum_noise = 0.0f;
  float coh_sum = 0.0f;
  float mic_coherent = 0.0f;
  float mic_incoherent = 0.0f;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    const std::complex<float> e = error_spec_[k];
    const std::complex<float> y = echo_spec_[k];
    const float pe = Norm(e);
    const float py = Norm(y);
    see_[k] = kCohForget * see_[k] + (1.0f - kCohForget) * pe;
    syy_[k] = kCohForget * syy_[k] + (1.0f - kCohForget) * py;
    sey_[k] = kCohForget * sey_[k] + (1.0f - kCohForget) * MulConj(e, y);
    const float coh =
        far_active ? std::min(1.0f, Norm(sey_[k]) / (see_[k] * syy_[k] + kTiny)) : 0.0f;
    coherence_[k] = coh;
    // Mic / echo-estimate coherence: the echo's share of the mic power in this
    // bin; what is left is near-end speech, noise, or unmodelled echo.
    const std::complex<float> m = near_spec_[k];
    const float pm = Norm(m);
    smm_[k] = kCohForget * smm_[k] + (1.0f - kCohForget) * pm;
    smy_[k] = kCohForget * smy_[k] + (1.0f - kCohForget) * MulConj(m, y);
    // The same for the background filter's estimate: after an echo path
    // change the background re-learns the path first, and its coherence with
    // the mic tells a path change (coherent again) from double talk (not).
    const std::complex<float> s = shadow_spec_[k];
    sss_[k] = kCohForget * sss_[k] + (1.0f - kCohForget) * Norm(s);
    sms_[k] = kCohForget * sms_[k] + (1.0f - kCohForget) * MulConj(m, s);
    const float coh_m =
        far_active ? std::min(1.0f, std::max(Norm(smy_[k]) / (smm_[k] * syy_[k] + kTiny),
                                             Norm(sms_[k]) / (smm_[k] * sss_[k] + kTiny)))
                   : 0.0f;
    mic_coherent += coh_m * pm;
    mic_incoherent += (1.0f - coh_m) * pm;
    coh_sum += coh;
    sum_e += pe;
    sum_coherent += coh * pe;
    // Noise floor: follows drops quickly, rises slowly (minimum tracking).
    if (!noise_init_) {
      noise_[k] = pe;
    } else if (pe < noise_[k]) {
      noise_[k] += kNoiseFall * (pe - noise_[k]);
    } else {
      noise_[k] *= kNoiseRise;
    }
    sum_noise += noise_[k];
  }
  noise_init_ = true;
  // Near-end activity: error energy that is neither coherent with the echo
  // estimate nor noise. While it is present (plus a hangover that protects
  // word endings) the suppressor only removes clearly coherent bins; without
  // it, it also removes the weakly coherent (reverberant, distorted) residual.
  const bool coherence_talk =
      far_active && mic_incoherent > kTalkNoiseRatio * sum_noise + kTalkEchoRatio * mic_coherent;
  // Both detectors must agree: the coherence one alone fires whenever the
  // filter is poor (start-up, after a path change), the energy one alone
  // misses a talker quieter than the echo.
  const bool talk_now = coherence_talk && external_talk;
  if (talk_now) {
    hangover_ = kHangoverBlocks;
  } else if (hangover_ > 0) {
    --hangover_;
  }
  near_talk_ = hangover_ > 0;
  const float over = near_talk_ ? kOverDoubleTalk : kOverSingleTalk;
  // Leakage per bin: error power over the power-domain echo estimate, learnt
  // only while the far end plays alone. It covers the residual the coherence
  // misses: reverberation past the filter, distortion, a disturbed filter.
  const bool learn = far_active && !near_talk_;
  float gain_sum = 0.0f;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    const float pe = Norm(error_spec_[k]);
    if (learn) {
      leak_num_[k] = kLeakForget * leak_num_[k] + (1.0f - kLeakForget) * pe;
      leak_den_[k] = kLeakForget * leak_den_[k] + (1.0f - kLeakForget) * echo_power[k];
    }
    const float leak = std::min(kMaxLeak, leak_num_[k] / (leak_den_[k] + kTiny));
    residual_[k] = far_active ? std::max(leak * echo_power[k], (near_talk_ ? kResidualDecayTalk : kResidualDecay) * residual_[k]) : 0.0f;
    const float excess = std::max(0.0f, coherence_[k] - kCohBias) / (1.0f - kCohBias);
    const float g_coh = 1.0f - over * excess;
    const float g_res = 1.0f - kLeakOver * (near_talk_ ? kOverDoubleTalk : kOverSingleTalk) * residual_[k] / (pe + kTiny);
    const float g = std::clamp(std::min(g_coh, g_res), kMinGain, 1.0f);
    gain_[k] = g;
    gain_sum += g;
    // Comfort noise fills what the gain removed, at the noise floor's level.
    const float fill = std::sqrt(std::max(0.0f, (1.0f - g * g) * noise_[k]) * 1.5f);
    error_spec_[k] = error_spec_[k] * g + std::complex<float>(fill * NextUniform(), fill * NextUniform());
  }
  leakage_ = coh_sum / static_cast<float>(num_bins_);
  mean_gain_ = gain_sum / static_cast<float>(num_bins_);
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
