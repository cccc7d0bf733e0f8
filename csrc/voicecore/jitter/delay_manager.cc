#include "voicecore/jitter/delay_manager.h"

#include <algorithm>
#include <cmath>

namespace voicecore::jitter {

DelayManager::DelayManager(const DelayManagerConfig& config)
    : config_(config), hist_(kBins), recent_(kBaseWindow) {}

void DelayManager::Reset() {
  std::fill(hist_.begin(), hist_.end(), 0.0);
  origin_ = 0;
  weight_ = 1;
  total_ = 0;
  top_bin_ = 0;
  base_ = 0;
  target_delay_ms_ = config_.min_delay_ms;
  count_ = 0;
}

void DelayManager::Shift(int bins) {
  // Positive: origin moves up (content moves down, the lowest bins merge into 0).
  if (bins > 0) {
    double merged = 0;
    for (int i = 0; i < std::min(bins, kBins); ++i) merged += hist_[i];
    for (int i = 0; i < kBins; ++i) hist_[i] = i + bins < kBins ? hist_[i + bins] : 0.0;
    hist_[0] += merged;
  } else if (bins < 0) {
    const int s = -bins;
    double merged = 0;
    for (int i = std::max(0, kBins - s); i < kBins; ++i) merged += hist_[i];
    for (int i = kBins - 1; i >= 0; --i) hist_[i] = i - s >= 0 ? hist_[i - s] : 0.0;
    hist_[kBins - 1] += merged;
  }
  origin_ += bins;
  top_bin_ = std::clamp(top_bin_ - bins, 0, kBins - 1);
}

void DelayManager::Update(double offset_ms, double duration_ms, double weight) {
  if (count_ == 0) {
    origin_ = std::floor(offset_ms) - 200.0;
    std::fill(recent_.begin(), recent_.end(), offset_ms);
  }
  recent_[static_cast<std::size_t>(count_ % kBaseWindow)] = offset_ms;
  ++count_;
  base_ = *std::min_element(recent_.begin(), recent_.end());

  int bin = static_cast<int>(std::floor(offset_ms - origin_));
  if (bin < 0) {
    Shift(bin - 200);
    bin = static_cast<int>(std::floor(offset_ms - origin_));
  } else if (bin >= kBins) {
    Shift(bin - kBins + 200);
    bin = static_cast<int>(std::floor(offset_ms - origin_));
  }
  bin = std::clamp(bin, 0, kBins - 1);
  top_bin_ = std::max(top_bin_, bin);
  // Forgetting by growing the weight of new packets instead of decaying every
  // bin; renormalise before the numbers get large.
  // Route change down: when every packet of the last kDropWindow sat well below
  // the target, the old route's mass is stale; forget it fast (~1.5 s instead
  // of ~10 s for a 0.98 quantile). On stationary jitter this never fires
  // (64 packets all far below the 98th percentile).
  double forget = config_.forget_per_20ms;
  if (count_ >= kDropWindow && target_delay_ms_ > config_.min_delay_ms) {
    double recent_max = -1e300;
    for (int k = 1; k <= kDropWindow; ++k) {
      recent_max = std::max(recent_max, recent_[static_cast<std::size_t>((count_ - k) % kBaseWindow)]);
    }
    if (recent_max + kRouteDropMs < base_ + target_delay_ms_) forget = std::min(forget, kFastForgetPer20ms);
  }
  const double f = std::pow(forget, std::max(duration_ms, 1.0) * weight / 20.0);
  weight_ /= f;
  hist_[static_cast<std::size_t>(bin)] += weight_ * (1.0 - f);
  total_ += weight_ * (1.0 - f);
  if (weight_ > 1e12) {
    for (double& h : hist_) h /= weight_;
    total_ /= weight_;
    weight_ = 1.0;
  }
  Recompute();
}

void DelayManager::Recompute() {
  // Walk down from the top until the tail mass exceeds 1 - quantile.
  // A lone outlier never moves the target: the tail must hold more than one
  // fresh packet's weight (two spike packets, or one spike plus a burst, do).
  const double tail = std::max((1.0 - config_.quantile) * total_,
                               kMinTailPackets * weight_ * (1.0 - config_.forget_per_20ms));
  double acc = 0;
  // Mass above top_bin_ is zero, so the walk starts there (a few hundred bins
  // at most instead of the whole histogram).
  int bin = top_bin_;
  for (; bin > 0; --bin) {
    acc += hist_[static_cast<std::size_t>(bin)];
    if (acc > tail) break;
  }
  const double quantile_offset = origin_ + bin + 1.0;
  target_delay_ms_ = std::clamp(quantile_offset - base_, static_cast<double>(config_.min_delay_ms),
                                static_cast<double>(config_.max_delay_ms));
}

void DelayManager::Rebase(double offset_ms) {
  if (count_ == 0) return;
  const int delta = static_cast<int>(std::lround(offset_ms - base_));
  origin_ += delta;
  for (double& r : recent_) r += delta;
  base_ += delta;
  Recompute();
}

}  // namespace voicecore::jitter
