// Nonlinear residual echo suppressor with comfort noise.
//
// The linear filter leaves a residual: misadjustment, the reverberant tail past
// the filter, and loudspeaker distortion. The suppressor estimates it per bin
// as leakage * |echo estimate|^2, where the leakage is the regression of the
// error power's fluctuations on the echo estimate's (the approach of Valin's
// MDF paper): near-end speech is uncorrelated with the echo estimate, so double
// talk does not inflate the leakage and the talker keeps his level. The gain is
// a power subtraction with over-subtraction and a floor; the bins it removes
// are refilled with noise shaped like the tracked noise floor, so the output
// never drops to digital silence.
//
// Analysis and synthesis use a sqrt-Hann window over two blocks with 50 %
// overlap, which adds one block of latency.
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "voicecore/common/real_fft.h"

namespace voicecore::aec {

class ResidualSuppressor {
 public:
  ResidualSuppressor(std::size_t block_size, std::uint32_t seed);
  ResidualSuppressor(const ResidualSuppressor&) = delete;
  ResidualSuppressor& operator=(const ResidualSuppressor&) = delete;

  // `error`: the linear canceller's output block; `echo`: its echo estimate
  // block; `far_active`: the far end plays into the filter's span. Writes
  // block_size samples to `out` (the block before `error`, one block late).
  void Process(const float* error, const float* echo, bool far_active, float* out);
  void Reset();

  // Estimated fraction of the echo estimate's power left in the error (0..2).
  float leakage() const { return leakage_; }
  // Last block: error power clearly above residual echo + noise while the far
  // end plays (the near end talks over the echo).
  bool near_talk() const { return near_talk_; }
  // Mean gain over bins of the last block (1 = untouched).
  float mean_gain() const { return mean_gain_; }

 private:
  float NextUniform();  // uniform in [-1, 1)

  const std::size_t block_size_;
  const std::size_t fft_size_;
  const std::size_t num_bins_;
  RealFft fft_;
  std::vector<float> window_;
  std::vector<float> prev_error_;
  std::vector<float> prev_echo_;
  std::vector<float> overlap_;
  std::vector<float> time_;
  std::vector<std::complex<float>> error_spec_;
  std::vector<std::complex<float>> echo_spec_;
  std::vector<float> error_mean_;   // slow per-bin mean of |E|^2
  std::vector<float> echo_mean_;    // slow per-bin mean of |Y|^2
  std::vector<float> residual_;     // per-bin residual echo power
  std::vector<float> noise_;        // per-bin noise floor of |E|^2
  std::vector<float> gain_;
  float cov_ey_ = 0.0f;
  float var_y_ = 0.0f;
  float leakage_ = 1.0f;
  bool near_talk_ = false;
  float mean_gain_ = 1.0f;
  bool noise_init_ = false;
  const std::uint32_t seed_;
  std::uint32_t rng_;
};

}  // namespace voicecore::aec
