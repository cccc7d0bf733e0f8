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
// The power-leak residual while the near end talks: gentler than the coherent
// part (a distorted loudspeaker leaks into every bin the talker uses).
constexpr float kLeakOverDoubleTalk = 0.45f;
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
// Nonlinear residual: weight in the talk detector and in single-talk
// suppression.
constexpr float kNlTalk = 0.0f;
constexpr float kNlSingle = 0.5f;
constexpr float kNlDouble = 0.0f;
// Per-block decay of the residual estimate: it models the reverberant tail
// (0.87 per 4 ms is an RT60 of 0.4 s); shorter while the near end talks.
constexpr float kResidualDecay = 0.85f;
constexpr float kResidualDecayTalk = 0.7f;
// Fallback: over-subtraction in single talk; the per-block step of its share
// towards the error / fallback ratio (it only falls); and the share's decay per
// far-active block once an echo could have been heard (~200 ms), so a room the
// filter never learns (or a headset with no echo and a talker) is not
// suppressed for long.
constexpr float kFallbackOver = 4.0f;
constexpr float kFallbackFade = 0.02f;
constexpr float kFallbackDecay = 0.98f;
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
      mic_coh_(block_size + 1, 0.0f),
      mic_power_(block_size + 1, 0.0f),
      error_power_(block_size + 1, 0.0f),
      leak_num_(block_size + 1, 0.0f),
      leak_den_(block_size + 1, 0.0f),
      nl_num_(block_size + 1, 0.0f),
      nl_power_(block_size + 1, 0.0f),
      fallback_share_(block_size + 1, 1.0f),
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
  std::fill(prev_echo_.begin(), prev_echo_.end(), 0.0f);
  std::fill(overlap_.begin(), overlap_.end(), 0.0f);
  std::fill(residual_.begin(), residual_.end(), 0.0f);
  std::fill(noise_.begin(), noise_.end(), 0.0f);
  std::fill(gain_.begin(), gain_.end(), 1.0f);
  std::fill(see_.begin(), see_.end(), 0.0f);
  std::fill(leak_num_.begin(), leak_num_.end(), 0.0f);
  std::fill(leak_den_.begin(), leak_den_.end(), 0.0f);
  std::fill(nl_num_.begin(), nl_num_.end(), 0.0f);
  std::fill(nl_power_.begin(), nl_power_.end(), 0.0f);
  nl_den_ = 0.0f;
  std::fill(fallback_share_.begin(), fallback_share_.end(), 1.0f);
  std::fill(prev_near_.begin(), prev_near_.end(), 0.0f);
  std::fill(smm_.begin(), smm_.end(), 0.0f);
  std::fill(prev_shadow_.begin(), prev_shadow_.end(), 0.0f);
  std::fill(sss_.begin(), sss_.end(), 0.0f);
  std::fill(sms_.begin(), sms_.end(), std::complex<float>{});
  std::fill(smy_.begin(), smy_.end(), std::complex<float>{});
  std::fill(syy_.begin(), syy_.end(), 0.0f);
  std::fill(sey_.begin(), sey_.end(), std::complex<float>{});
  leakage_ = 0.0f;
  coherent_share_ = 1.0f;
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

void ResidualSuppressor::Process(const float* near, const float* echo,
                                 const float* shadow_echo, const float* echo_power,
                                 const float* fallback_power, bool fallback_fade, bool far_active,
                                 bool external_talk, bool rearm, float* out) {
  const std::size_t b = block_size_;
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
  // error = near - echo, and the transform is linear: the error's spectrum is
  // the difference of the two (one transform fewer per block).
  for (std::size_t k = 0; k < num_bins_; ++k) error_spec_[k] = near_spec_[k] - echo_spec_[k];
  std::copy(echo, echo + b, prev_echo_.begin());

  // Residual echo per bin = the part of the error power that is linearly
  // coherent with the echo estimate. Within one bin both the residual echo and
  // the echo estimate are linear functions of the far signal, so in single
  // talk their coherence is near 1 however far the filter is from converged;
  // near-end speech and noise are incoherent with it and are kept.
  // First a per-bin pass with no branches and no running sums, so it
  // vectorises; the sums follow in a short scalar pass.
  if (!noise_init_) {
    for (std::size_t k = 0; k < num_bins_; ++k) noise_[k] = Norm(error_spec_[k]);
  }
  const float active = far_active ? 1.0f : 0.0f;
  // std::complex<float> is float[2]: the loop reads the spectra as
  // interleaved floats, which the vectoriser handles (complex-typed loads and
  // stores it does not).
  const float* ef = reinterpret_cast<const float*>(error_spec_.data());
  const float* yf = reinterpret_cast<const float*>(echo_spec_.data());
  const float* mf = reinterpret_cast<const float*>(near_spec_.data());
  const float* hf = reinterpret_cast<const float*>(shadow_spec_.data());
  float* sey = reinterpret_cast<float*>(sey_.data());
  float* smy = reinterpret_cast<float*>(smy_.data());
  float* sms = reinterpret_cast<float*>(sms_.data());
  float* see = see_.data();
  float* syy = syy_.data();
  float* smm = smm_.data();
  float* sss = sss_.data();
  float* noise = noise_.data();
  float* coherence = coherence_.data();
  float* mic_coh = mic_coh_.data();
  float* mic_power = mic_power_.data();
  float* error_power = error_power_.data();
  constexpr float kA = kCohForget;
  constexpr float kB = 1.0f - kCohForget;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    const float er = ef[2 * k], ei = ef[2 * k + 1];
    const float yr = yf[2 * k], yi = yf[2 * k + 1];
    const float mr = mf[2 * k], mi = mf[2 * k + 1];
    const float hr = hf[2 * k], hi = hf[2 * k + 1];
    const float pe = er * er + ei * ei;
    const float py = yr * yr + yi * yi;
    const float pm = mr * mr + mi * mi;
    const float ph = hr * hr + hi * hi;
    see[k] = kA * see[k] + kB * pe;
    syy[k] = kA * syy[k] + kB * py;
    smm[k] = kA * smm[k] + kB * pm;
    sss[k] = kA * sss[k] + kB * ph;
    // Cross spectra a * conj(b).
    const float ey_r = kA * sey[2 * k] + kB * (er * yr + ei * yi);
    const float ey_i = kA * sey[2 * k + 1] + kB * (ei * yr - er * yi);
    const float my_r = kA * smy[2 * k] + kB * (mr * yr + mi * yi);
    const float my_i = kA * smy[2 * k + 1] + kB * (mi * yr - mr * yi);
    const float mh_r = kA * sms[2 * k] + kB * (mr * hr + mi * hi);
    const float mh_i = kA * sms[2 * k + 1] + kB * (mi * hr - mr * hi);
    sey[2 * k] = ey_r;
    sey[2 * k + 1] = ey_i;
    smy[2 * k] = my_r;
    smy[2 * k + 1] = my_i;
    sms[2 * k] = mh_r;
    sms[2 * k + 1] = mh_i;
    // Error / echo-estimate coherence (the residual echo's share).
    const float coh = (ey_r * ey_r + ey_i * ey_i) / (see[k] * syy[k] + kTiny);
    coherence[k] = active * std::min(coh, 1.0f);
    // Mic / echo-estimate coherence: the echo's share of the mic power in this
    // bin; what is left is near-end speech, noise, or unmodelled echo. The
    // same for the background filter's estimate: after an echo path change
    // the background re-learns the path first, and its coherence with the mic
    // tells a path change (coherent again) from double talk (not).
    const float c_my = (my_r * my_r + my_i * my_i) / (smm[k] * syy[k] + kTiny);
    const float c_mh = (mh_r * mh_r + mh_i * mh_i) / (smm[k] * sss[k] + kTiny);
    mic_coh[k] = active * std::min(std::max(c_my, c_mh), 1.0f);
    mic_power[k] = pm;
    error_power[k] = pe;
    // Noise floor: follows drops quickly, rises slowly (minimum tracking).
    const float nk = noise[k];
    const float fall = nk + kNoiseFall * (pe - nk);
    const float rise = nk * kNoiseRise;
    noise[k] = pe < nk ? fall : rise;
  }
  float coh_sum = 0.0f;
  float sum_noise = 0.0f;
  float mic_coherent = 0.0f;
  float mic_incoherent = 0.0f;
  float echo_total = 0.0f;
  for (std::size_t k = 0; k < num_bins_; ++k) echo_total += echo_power[k];
  // Nonlinear residual (a clipping or saturating loudspeaker): power in bins
  // the linear estimate does not predict, whose level follows the echo's
  // total level rather than its spectrum (harmonics land where the far end
  // has little energy). Its average spectrum per unit of echo power is learnt
  // while the far end plays alone; scaled by the current echo level it is
  // echo, not near-end speech.
  const float nl_scale = far_active ? echo_total / (nl_den_ + kTiny) : 0.0f;
  for (std::size_t k = 0; k < num_bins_; ++k) {
    nl_power_[k] = nl_scale * nl_num_[k];
    const float incoherent = (1.0f - mic_coh_[k]) * mic_power_[k];
    mic_coherent += mic_coh_[k] * mic_power_[k] + std::min(incoherent, kNlTalk * nl_power_[k]);
    mic_incoherent += std::max(0.0f, incoherent - kNlTalk * nl_power_[k]);
    coh_sum += coherence_[k];
    sum_noise += noise_[k];
  }
  noise_init_ = true;
  // Near-end activity: error energy that is neither coherent with the echo
  // estimate nor noise. While it is present (plus a hangover that protects
  // word endings) the suppressor only removes clearly coherent bins; without
  // it, it also removes the weakly coherent (reverberant, distorted) residual.
  coherent_share_ = mic_coherent / (mic_coherent + std::max(0.0f, mic_incoherent - sum_noise) + kTiny);
  const bool coherence_talk =
      far_active && mic_incoherent > kTalkNoiseRatio * sum_noise + kTalkEchoRatio * mic_coherent;
  // Both detectors must agree: the coherence one alone fires whenever the
  // filter is poor (start-up, after a path change), the energy one alone
  // misses a talker quieter than the echo.
  const bool talk_now = coherence_talk && external_talk;
  if (rearm) {
    hangover_ = 0;
    std::fill(fallback_share_.begin(), fallback_share_.end(), 1.0f);
  }
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
    const float pe = error_power_[k];
    const float leak = std::min(kMaxLeak, leak_num_[k] / (leak_den_[k] + kTiny));
    if (learn) {
      leak_num_[k] = kLeakForget * leak_num_[k] + (1.0f - kLeakForget) * pe;
      leak_den_[k] = kLeakForget * leak_den_[k] + (1.0f - kLeakForget) * echo_power[k];
      const float unexplained = std::max(0.0f, pe - leak * echo_power[k] - noise_[k]);
      nl_num_[k] = kLeakForget * nl_num_[k] + (1.0f - kLeakForget) * unexplained;
      // Where the fallback predicts more than the noise floor, the error above
      // the floor says how much of the echo the filter still leaves.
      if (fallback_fade && !rearm && fallback_power[k] > noise_[k]) {
        const float ratio = std::max(0.0f, pe - noise_[k]) / fallback_power[k];
        fallback_share_[k] += kFallbackFade * std::min(0.0f, ratio - fallback_share_[k]);
      }
    }
    if (fallback_fade && far_active && !rearm) fallback_share_[k] *= kFallbackDecay;
    const float linear_res = std::max(leak * echo_power[k], (near_talk_ ? kNlDouble : kNlSingle) * nl_power_[k]);
    residual_[k] = far_active ? std::max(linear_res, (near_talk_ ? kResidualDecayTalk : kResidualDecay) * residual_[k]) : 0.0f;
    const float excess = std::max(0.0f, coherence_[k] - kCohBias) / (1.0f - kCohBias);
    const float g_coh = 1.0f - over * excess;
    const float leak_over = kLeakOver * (near_talk_ ? kLeakOverDoubleTalk : kOverSingleTalk);
    const float g_res = 1.0f - leak_over * residual_[k] / (pe + kTiny);
    const float fallback = far_active && !near_talk_ ? fallback_share_[k] * fallback_power[k] : 0.0f;
    const float g_fb = 1.0f - kFallbackOver * fallback / (pe + kTiny);
    const float g = std::clamp(std::min({g_coh, g_res, g_fb}), kMinGain, 1.0f);
    gain_[k] = g;
    gain_sum += g;
    // Comfort noise fills what the gain removed, at the noise floor's level.
    const float fill = std::sqrt(std::max(0.0f, (1.0f - g * g) * noise_[k]) * 1.5f);
    error_spec_[k] = error_spec_[k] * g + std::complex<float>(fill * NextUniform(), fill * NextUniform());
  }
  if (learn) nl_den_ = kLeakForget * nl_den_ + (1.0f - kLeakForget) * echo_total;
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
