// Bulk delay estimator: finds the lag (in blocks) at which the microphone's
// spectral envelope follows the far end's. Each block contributes, per band,
// the product of the near and far log-power deviations from their running
// means; these products are averaged per candidate lag with exponential
// forgetting, and the lag with the highest normalised correlation wins.
//
// Envelopes survive what breaks waveform correlation (loudspeaker clipping,
// reverberation, background noise), and the cost is bands x lags multiply-adds
// per block. The first estimate is adopted after it has won for a run of
// blocks. Later changes come two ways: the owner confirms a short-memory
// proposal (fast_best) against the microphone and calls Set, or a candidate
// wins the long-memory search for kRunsUnconfirmed blocks (600 ms) in a row.
// Near-end speech makes correlation peaks that wander, so it rarely holds the
// search that long, and it cannot pass the owner's confirmation.
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <cstddef>
#include <vector>

namespace voicecore::aec {

class DelayEstimator {
 public:
  // `num_bins`: bins of the power spectra passed to Update; `max_lag_blocks`:
  // the largest lag searched.
  DelayEstimator(std::size_t num_bins, std::size_t max_lag_blocks);
  DelayEstimator(const DelayEstimator&) = delete;
  DelayEstimator& operator=(const DelayEstimator&) = delete;

  // Power spectra of the newest far and near blocks (num_bins values each).
  // `hold`: the near end talks; the correlations keep learning but the first
  // estimate must win for much longer before it is taken (near-end speech
  // makes spurious, wandering peaks).
  // `far_active`: the far end plays where the echo is expected; when false
  // the scores keep learning but the estimate does not change.
  // `settled`: the owner's filter cancels the echo at the current estimate;
  // an unconfirmed change is not taken then.
  void Update(const float* far_power, const float* near_power, bool hold = false,
              bool far_active = true, bool settled = false);
  void Reset();

  // Current estimate in blocks, or -1 before the first confident estimate.
  int delay_blocks() const { return delay_blocks_; }
  // The best lag over a short memory (~130 ms), or -1 when its correlation is
  // weak or the far end is silent: a fast proposal that the owner checks
  // against the microphone before taking it with Set.
  int fast_best() const { return fast_best_; }
  // Takes `lag` as the estimate (a confirmed change).
  void Set(int lag);
  // The echo's onset is at `lag`, not at the current estimate (the owner's
  // filter shows it): the envelope correlation peaks late in reverberant
  // rooms. The difference is kept as a bias subtracted from later searches.
  void Refine(int lag);
  // Normalised correlation at the current estimate (0..1).
  float quality() const { return quality_; }

 private:
  void Adopt();
  void Features(const float* power, std::vector<float>& mean, float* out);

  const std::size_t num_bands_;
  const std::size_t max_lag_;
  std::size_t newest_ = 0;  // slot of the newest far feature vector
  std::vector<float> far_mean_;
  std::vector<float> near_mean_;
  std::vector<float> far_history_;     // (max_lag_ + 1) slots of kBandStride
  std::vector<float> far_energy_;      // per slot: sum of squared features
  std::vector<float> near_features_;
  std::vector<float> cross_;           // per lag: smoothed sum near * far(lag)
  std::vector<float> far_power_lag_;   // per lag: smoothed far feature energy
  float near_power_ = 0.0f;            // smoothed near feature energy
  std::vector<float> cross_fast_;      // the same three with the short memory
  std::vector<float> far_fast_;
  float near_power_fast_ = 0.0f;
  int fast_best_ = -1;
  int delay_blocks_ = -1;
  int candidate_ = -1;
  int candidate_runs_ = 0;
  int bias_ = 0;              // see Refine
  int latest_ = -1;           // the candidate's most recent winning lag
  float latest_score_ = 0.0f;
  float quality_ = 0.0f;
  std::size_t blocks_seen_ = 0;
};

}  // namespace voicecore::aec
