// Target playout delay from packet arrival statistics.
//
// Each packet contributes its offset = arrival time - media time (ms, an
// arbitrary constant apart from the true one-way delay). A histogram of offsets
// with exponential forgetting (per 20 ms of media, so packet size does not change
// the memory) gives a high quantile: the playout offset at which all but a small
// share of packets have arrived. Because the quantile is taken on absolute
// offsets, a route change moves it as soon as a packet or two arrive on the new
// route (up) or once the old route's mass has been forgotten (down, a few
// seconds), and a one-off delay spike drains away the same way: nothing ratchets.
// Two refinements: a lone outlier cannot move the quantile (the tail must hold
// more than one fresh packet's weight), and packets that arrive bunched together
// in order (a queue draining after a stall) weigh by their spacing, so a stall
// counts as one event rather than dozens and drains in a second or two.
#pragma once

#include <cstdint>
#include <vector>

namespace voicecore::jitter {

struct DelayManagerConfig {
  int min_delay_ms = 0;
  int max_delay_ms = 1000;
  double quantile = 0.98;  // plus a 5 ms frame margin and a 10 ms hole wait in JitterBuffer: ~0.5 % late on Pareto jitter
  double forget_per_20ms = 0.993;
};

// Not thread-safe; owned by one JitterBuffer. Never allocates after construction.
class DelayManager {
 public:
  explicit DelayManager(const DelayManagerConfig& config);
  DelayManager(const DelayManager&) = delete;
  DelayManager& operator=(const DelayManager&) = delete;

  // Records one packet's offset; `duration_ms` is its media duration and
  // `weight` in (0, 1] how much of a packet it counts as (bursts count less).
  void Update(double offset_ms, double duration_ms, double weight = 1.0);
  // Moves the offset origin after a sender restart (new media clock): the base
  // becomes `offset_ms` and the learnt delay distribution is kept relative to it.
  void Rebase(double offset_ms);

  bool has_data() const { return count_ > 0; }
  // The smallest offset among recent packets: the network's fast path.
  double base_offset_ms() const { return base_; }
  // The offset playout should keep: base + target delay.
  double target_offset_ms() const { return base_ + target_delay_ms_; }
  // Buffering delay over the fast path, clamped to [min_delay_ms, max_delay_ms].
  double target_delay_ms() const { return target_delay_ms_; }
  void Reset();

 private:
  static constexpr int kBins = 2048;       // 1 ms bins
  static constexpr int kBaseWindow = 128;  // packets in the fast-path minimum
  static constexpr double kMinTailPackets = 1.5;
  static constexpr int kDropWindow = 64;   // packets that must all sit below the target
  static constexpr double kRouteDropMs = 20.0;
  static constexpr double kFastForgetPer20ms = 0.95;
  void Shift(int bins);                    // moves origin_ by `bins` bins
  void Recompute();

  const DelayManagerConfig config_;
  std::vector<double> hist_;
  std::vector<double> recent_;             // ring of recent offsets
  double origin_ = 0;                      // offset of bin 0
  double weight_ = 1;                      // weight of the next packet
  double total_ = 0;
  int top_bin_ = 0;                        // highest bin holding mass
  double base_ = 0;
  double target_delay_ms_ = 0;
  int64_t count_ = 0;
};

}  // namespace voicecore::jitter
