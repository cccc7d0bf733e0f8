#include "voicecore/aec/delay_estimator.h"

#include <algorithm>
#include <cmath>

#include "voicecore/aec/aec_common.h"
#include "voicecore/common/vec4.h"

namespace voicecore::aec {

namespace {
// Bands of two 125 Hz bins from 250 Hz up to 4 kHz: where speech has its
// envelope structure, and present at both 8 and 16 kHz.
constexpr std::size_t kFirstBin = 2;
constexpr std::size_t kBinsPerBand = 2;
constexpr std::size_t kMaxBands = 15;
// Power floor (about -65 dBFS per bin) so digital silence and sensor noise do
// not produce large log swings.
constexpr float kPowerFloor = 1e-5f;
constexpr float kMeanForget = 0.98f;     // ~200 ms envelope high-pass
constexpr float kScoreForget = 0.99f;    // ~400 ms correlation memory
// A second, short memory (~130 ms) proposes candidates for a fast change; the
// owner confirms them (see fast_best) before they are taken.
constexpr float kFastForget = 0.97f;
constexpr int kRunsToSwitch = 12;        // ~50 ms of agreement before a change
// Before the first estimate, while held (double talk) a candidate must win for
// 400 ms in a row: near-end speech makes peaks that wander.
constexpr int kRunsToSwitchHeld = 100;
// Later changes wait for the canceller's confirmation (Set); without it a
// candidate is taken only after winning for this long without a break, so a
// real jump that the confirmation cannot see (a filter not yet converged, or
// the echo's level changed with the delay) is still followed.
constexpr int kRunsUnconfirmed = 150;
constexpr float kMinQuality = 0.2f;
constexpr float kSwitchRatio = 1.25f;  // a new lag must correlate 25 % better
// Feature vectors are stored kBandStride floats apart, zero-padded, so the
// per-lag dot product is two fixed 8-wide passes the compiler vectorises.
constexpr std::size_t kBandStride = 16;
static_assert(kMaxBands <= kBandStride);

float Dot16(const float* a, const float* b) {
  float s[8] = {};
  for (std::size_t j = 0; j < kBandStride; j += 8) {
    for (std::size_t k = 0; k < 8; ++k) s[k] += a[j + k] * b[j + k];
  }
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

std::size_t BandsFor(std::size_t num_bins) {
  const std::size_t usable = num_bins > kFirstBin ? (num_bins - kFirstBin) / kBinsPerBand : 0;
  return std::max<std::size_t>(1, std::min(kMaxBands, usable));
}
}  // namespace

DelayEstimator::DelayEstimator(std::size_t num_bins, std::size_t max_lag_blocks)
    : num_bands_(BandsFor(num_bins)),
      max_lag_(max_lag_blocks),
      far_mean_(num_bands_, 0.0f),
      near_mean_(num_bands_, 0.0f),
      far_history_((max_lag_blocks + 1) * kBandStride, 0.0f),
      far_energy_(max_lag_blocks + 1, 0.0f),
      near_features_(kBandStride, 0.0f),
      cross_(max_lag_blocks + 1, 0.0f),
      far_power_lag_(max_lag_blocks + 1, 0.0f),
      cross_fast_(max_lag_blocks + 1, 0.0f),
      far_fast_(max_lag_blocks + 1, 0.0f) {
  Reset();
}

void DelayEstimator::Reset() {
  const float init = std::log(kPowerFloor * kBinsPerBand);
  std::fill(far_mean_.begin(), far_mean_.end(), init);
  std::fill(near_mean_.begin(), near_mean_.end(), init);
  std::fill(far_history_.begin(), far_history_.end(), 0.0f);
  std::fill(far_energy_.begin(), far_energy_.end(), 0.0f);
  std::fill(cross_.begin(), cross_.end(), 0.0f);
  std::fill(far_power_lag_.begin(), far_power_lag_.end(), 0.0f);
  std::fill(cross_fast_.begin(), cross_fast_.end(), 0.0f);
  std::fill(far_fast_.begin(), far_fast_.end(), 0.0f);
  near_power_ = 0.0f;
  near_power_fast_ = 0.0f;
  fast_best_ = -1;
  newest_ = 0;
  delay_blocks_ = -1;
  candidate_ = -1;
  candidate_runs_ = 0;
  latest_ = -1;
  latest_score_ = 0.0f;
  bias_ = 0;
  quality_ = 0.0f;
  blocks_seen_ = 0;
}

void DelayEstimator::Features(const float* power, std::vector<float>& mean, float* out) {
  for (std::size_t b = 0; b < num_bands_; ++b) {
    float p = 0.0f;
    for (std::size_t j = 0; j < kBinsPerBand; ++j) p += power[kFirstBin + b * kBinsPerBand + j];
    const float f = std::log(p + kPowerFloor * kBinsPerBand);
    mean[b] = kMeanForget * mean[b] + (1.0f - kMeanForget) * f;
    out[b] = f - mean[b];
  }
}

void DelayEstimator::Update(const float* far_power, const float* near_power, bool hold,
                            bool far_active, bool settled) {
  const std::size_t slots = max_lag_ + 1;
  newest_ = Next(newest_, slots);
  float* far_now = far_history_.data() + newest_ * kBandStride;
  Features(far_power, far_mean_, far_now);
  float fe = 0.0f;
  for (std::size_t b = 0; b < num_bands_; ++b) fe += far_now[b] * far_now[b];
  far_energy_[newest_] = fe;
  Features(near_power, near_mean_, near_features_.data());
  float ne = 0.0f;
  for (std::size_t b = 0; b < num_bands_; ++b) ne += near_features_[b] * near_features_[b];
  near_power_ = kScoreForget * near_power_ + (1.0f - kScoreForget) * ne;
  ++blocks_seen_;

  near_power_fast_ = kFastForget * near_power_fast_ + (1.0f - kFastForget) * ne;
  // First the correlations and smoothed sums of every lag, four lags at a
  // time (the same operations per lag as Dot16 and the scalar tail), then the
  // ranking, which needs the lags in order.
  auto far_at = [&](std::size_t lag) {
    return newest_ >= lag ? newest_ - lag : newest_ + slots - lag;
  };
  const float* near = near_features_.data();
  const Float4 n0 = Load4(near), n1 = Load4(near + 4), n2 = Load4(near + 8),
               n3 = Load4(near + 12);
  const Float4 zero = Splat4(0.0f);
  std::size_t lag = 0;
  for (; lag + 4 <= slots; lag += 4) {
    Float4 u[4];
    Float4 fe4;
    for (std::size_t j = 0; j < 4; ++j) {
      const std::size_t slot = far_at(lag + j);
      const float* f = far_history_.data() + slot * kBandStride;
      // Dot16's eight partial sums: lanes 0-3 in `lo`, 4-7 in `hi`.
      const Float4 lo = (zero + n0 * Load4(f)) + n2 * Load4(f + 8);
      const Float4 hi = (zero + n1 * Load4(f + 4)) + n3 * Load4(f + 12);
      u[j] = lo + hi;
      fe4[j] = far_energy_[slot];  // lane inserts: no scalar stores read back as a vector
    }
    Transpose4(u[0], u[1], u[2], u[3]);
    const Float4 c = (u[0] + u[1]) + (u[2] + u[3]);
    Store4(cross_.data() + lag, Splat4(kScoreForget) * Load4(cross_.data() + lag) +
                                    Splat4(1.0f - kScoreForget) * c);
    Store4(far_power_lag_.data() + lag,
           Splat4(kScoreForget) * Load4(far_power_lag_.data() + lag) +
               Splat4(1.0f - kScoreForget) * fe4);
    Store4(cross_fast_.data() + lag, Splat4(kFastForget) * Load4(cross_fast_.data() + lag) +
                                         Splat4(1.0f - kFastForget) * c);
    Store4(far_fast_.data() + lag, Splat4(kFastForget) * Load4(far_fast_.data() + lag) +
                                       Splat4(1.0f - kFastForget) * fe4);
  }
  for (; lag < slots; ++lag) {
    const std::size_t slot = far_at(lag);
    const float c = Dot16(near, far_history_.data() + slot * kBandStride);
    cross_[lag] = kScoreForget * cross_[lag] + (1.0f - kScoreForget) * c;
    far_power_lag_[lag] = kScoreForget * far_power_lag_[lag] + (1.0f - kScoreForget) * far_energy_[slot];
    cross_fast_[lag] = kFastForget * cross_fast_[lag] + (1.0f - kFastForget) * c;
    far_fast_[lag] = kFastForget * far_fast_[lag] + (1.0f - kFastForget) * far_energy_[slot];
  }
  // The lag search ranks c |c| / far_power (monotonic in the normalised
  // correlation c / sqrt(far_power * near_power) for positive c): one square
  // root for the winner instead of one per lag.
  int best = -1;
  float best_rank = 0.0f;
  int fast = -1;
  float fast_rank = 0.0f;
  for (lag = 0; lag < slots; ++lag) {
    const float fc = cross_fast_[lag];
    const float ffp = far_fast_[lag];
    if (fc > 0.0f && fc * fc > fast_rank * (ffp + 1e-18f)) {
      fast_rank = fc * fc / (ffp + 1e-18f);
      fast = static_cast<int>(lag);
    }
    const float cross = cross_[lag];
    const float fp = far_power_lag_[lag];
    if (cross > 0.0f && cross * cross > best_rank * (fp + 1e-18f)) {
      best_rank = cross * cross / (fp + 1e-18f);
      best = static_cast<int>(lag);
    }
  }
  // A fast proposal on the last lag searched is no peak: no later lag shows
  // its fall. It is what a talker leaves there in double talk, his envelope
  // correlating with the oldest far speech in the range (s13_x05 at 9.2 s:
  // 72 -> 484 ms of a 500 ms range, taken as a moved echo; single-talk ERLE
  // 45.6 -> 11.5 dB).
  if (fast == static_cast<int>(max_lag_)) fast = -1;
  // The same holds for the long-memory winner once an estimate exists: a
  // talker who holds the search there for 600 ms moves the estimate without
  // any confirmation (a room from the corpus generator with seed 32, c08:
  // 36 -> 500 ms at 9.05 s in double talk, single-talk ERLE 47.7 -> 5.0 dB).
  // The first estimate may still sit there: the echo of a far end delayed by
  // the whole range has nowhere else to peak.
  if (delay_blocks_ >= 0 && best == static_cast<int>(max_lag_)) best = -1;
  const float best_score =
      best < 0 ? 0.0f
               : cross_[static_cast<std::size_t>(best)] /
                     (std::sqrt(far_power_lag_[static_cast<std::size_t>(best)] * near_power_) + 1e-9f);
  // Lags beyond the history seen so far are not meaningful yet.
  if (blocks_seen_ <= max_lag_ && best > static_cast<int>(blocks_seen_)) best = -1;
  // The envelope peak's offset from the echo onset, learnt by Refine.
  if (best >= 0) best = std::clamp(best - bias_, 0, static_cast<int>(max_lag_));
  if (fast >= 0) fast = std::clamp(fast - bias_, 0, static_cast<int>(max_lag_));
  fast_best_ = -1;
  if (fast >= 0 && blocks_seen_ > max_lag_) {
    const std::size_t f =
        static_cast<std::size_t>(std::clamp(fast + bias_, 0, static_cast<int>(max_lag_)));
    const float q = cross_fast_[f] / (std::sqrt(far_fast_[f] * near_power_fast_) + 1e-9f);
    if (q >= kMinQuality && far_active) fast_best_ = fast;
  }
  // With the far end silent where the echo is expected (the agent stopped,
  // say after a barge-in) the scores keep learning, but near-end speech then
  // correlates with whatever far speech is left at the end of the search
  // range: no new estimate is taken, so the converged filter is not shifted
  // out of its window just before the agent's next reply.
  if (best < 0 || best_score < kMinQuality || !far_active) {
    if (far_active) candidate_runs_ = 0;
    if (delay_blocks_ >= 0) {
      const std::size_t slot = static_cast<std::size_t>(delay_blocks_);
      quality_ = cross_[slot] / (std::sqrt(far_power_lag_[slot] * near_power_) + 1e-9f);
    }
    return;
  }
  if (best == delay_blocks_) {
    candidate_runs_ = 0;
    quality_ = best_score;
    return;
  }
  // A neighbour of the current estimate is the same echo peak: no change.
  if (delay_blocks_ >= 0 && std::abs(best - delay_blocks_) <= 2) {
    candidate_runs_ = 0;
    quality_ = best_score;
    return;
  }
  // Hysteresis: a broad correlation peak (stationary far signals) must not
  // make the estimate wander, since every move shifts the adaptive filter.
  if (delay_blocks_ >= 0) {
    const std::size_t slot = static_cast<std::size_t>(delay_blocks_);
    const float current = cross_[slot] / (std::sqrt(far_power_lag_[slot] * near_power_) + 1e-9f);
    if (best_score < kSwitchRatio * current) {
      candidate_runs_ = 0;
      quality_ = current;
      return;
    }
  }
  if (best == candidate_ || std::abs(best - candidate_) <= 1) {
    ++candidate_runs_;
  } else {
    candidate_ = best;
    candidate_runs_ = 1;
  }
  latest_ = best;
  latest_score_ = best_score;
  const bool first = delay_blocks_ < 0;
  if ((first && candidate_runs_ >= (hold ? kRunsToSwitchHeld : kRunsToSwitch)) ||
      (!settled && candidate_runs_ >= kRunsUnconfirmed)) {
    Adopt();
  }
}

void DelayEstimator::Adopt() {
  delay_blocks_ = latest_;
  candidate_runs_ = 0;
  quality_ = latest_score_;
}

void DelayEstimator::Refine(int lag) {
  if (delay_blocks_ < 0) return;
  lag = std::clamp(lag, 0, static_cast<int>(max_lag_));
  bias_ += delay_blocks_ - lag;
  delay_blocks_ = lag;
  candidate_ = -1;
  candidate_runs_ = 0;
}

void DelayEstimator::Set(int lag) {
  delay_blocks_ = std::clamp(lag, 0, static_cast<int>(max_lag_));
  candidate_ = -1;
  candidate_runs_ = 0;
}

}  // namespace voicecore::aec
