#include "voicecore/aec/echo_move_check.h"

#include <algorithm>

#include "voicecore/aec/aec_common.h"
#include "voicecore/common/vec4.h"

namespace voicecore::aec {
namespace {

// The shifted echo estimate must leave 10 dB less than the microphone (and
// the foreground) over the blocks since the failure began. Each shift must
// have been scored on kMinBlocks blocks itself: the history restarts at every
// delay change, so a large shift had been scored on the last block or two
// only, and one quiet block (an echo tail) passed the 10 dB test by chance.
// In a clipping room in double talk, where the filter fails on and off, that
// moved a right delay 36 blocks late and the echo left the filter span
// (s1501_x05: 18 -> 54 blocks, 13.6 -> 38.1 dB, AEC3 20.5); in four generated
// x03 rooms it made moves of 34-49 blocks on one block. kMinBlocks is also
// the failure's length before any decision (as for the power test,
// EchoCanceller kConfirmBlocks).
constexpr float kWaveRatio = 0.1f;
constexpr int kWaveMaxBlocks = 50;
constexpr int kMinBlocks = 12;
// Shifts under 3 blocks are the filter's own business (RefineDelay).
constexpr int kMinShift = 3;

// Block sums in eight interleaved partial sums added in lane order (block
// sizes are multiples of 8). A stored block energy is computed this same
// way, so it equals a recomputed one.
float SumLanes8(Float4 lo, Float4 hi) {
  float lanes[8];
  Store4(lanes, lo);
  Store4(lanes + 4, hi);
  float s = 0.0f;
  for (float v : lanes) s += v;
  return s;
}

float EnergyBy8(const float* x, std::size_t n) {
  Float4 lo = Splat4(0.0f), hi = Splat4(0.0f);
  for (std::size_t i = 0; i < n; i += 8) {
    const Float4 a = Load4(x + i), b = Load4(x + i + 4);
    lo = lo + a * a;
    hi = hi + b * b;
  }
  return SumLanes8(lo, hi);
}

}  // namespace

EchoMoveCheck::EchoMoveCheck(std::size_t block_size, std::size_t max_shift_blocks)
    : block_size_(block_size),
      history_blocks_(max_shift_blocks + 1),
      near_history_(history_blocks_ * block_size, 0.0f),
      echo_history_(history_blocks_ * block_size, 0.0f),
      near_history_energy_(history_blocks_, 0.0f),
      history_run_(history_blocks_, -1),
      error_(2 * history_blocks_, 0.0f),
      ref_(2 * history_blocks_, 0.0f),
      count_(2 * history_blocks_, 0) {}

void EchoMoveCheck::Reset() {
  blocks_ = 0;
  calm_ = 0;
  std::fill(near_history_.begin(), near_history_.end(), 0.0f);
  std::fill(echo_history_.begin(), echo_history_.end(), 0.0f);
  std::fill(near_history_energy_.begin(), near_history_energy_.end(), 0.0f);
  std::fill(history_run_.begin(), history_run_.end(), -1);
  scored_ = false;
  history_pos_ = 0;
  history_valid_ = 0;
}

void EchoMoveCheck::Calm() {
  if (++calm_ >= kWaveMaxBlocks) blocks_ = 0;
}

void EchoMoveCheck::Restart() {
  blocks_ = 0;
  calm_ = 0;
  history_valid_ = 0;
}

bool EchoMoveCheck::exhausted() const { return blocks_ > kWaveMaxBlocks; }

int EchoMoveCheck::Score(const float* near, const float* echo, float near_energy, float error_energy,
                         int delay_blocks) {
  calm_ = 0;
  scored_ = true;
  if (blocks_ == 0) {
    ++run_;
    std::fill(error_.begin(), error_.end(), 0.0f);
    std::fill(ref_.begin(), ref_.end(), 0.0f);
    std::fill(count_.begin(), count_.end(), 0);
  }
  if (blocks_ <= kWaveMaxBlocks) ++blocks_;
  const std::size_t b = block_size_;
  const int max_shift = static_cast<int>(history_blocks_) - 1;
  // history_pos_ holds the previous block (this one is stored afterwards).
  // A pure move shows within a few dozen blocks of the failure; past that
  // (double talk, a changed room) the test is not run, which bounds its cost.
  const int valid = blocks_ > kWaveMaxBlocks ? 0 : std::min(max_shift, static_cast<int>(history_valid_));
  for (int back = kMinShift; back <= valid; ++back) {
    const std::size_t slot =
        Wrap(history_pos_ + history_blocks_ + 1 - static_cast<std::size_t>(back), history_blocks_);
    const float* past_echo = echo_history_.data() + slot * b;
    const float* past_near = near_history_.data() + slot * b;
    // Sums as in EnergyBy8; the past block's own energy was stored with it.
    Float4 later_lo = Splat4(0.0f), later_hi = later_lo;  // the delay grew by `back` blocks
    Float4 earlier_lo = later_lo, earlier_hi = later_lo;  // it shrank by `back` blocks
    for (std::size_t i = 0; i < b; i += 8) {
      const Float4 d1lo = Load4(near + i) - Load4(past_echo + i);
      const Float4 d1hi = Load4(near + i + 4) - Load4(past_echo + i + 4);
      const Float4 d2lo = Load4(past_near + i) - Load4(echo + i);
      const Float4 d2hi = Load4(past_near + i + 4) - Load4(echo + i + 4);
      later_lo = later_lo + d1lo * d1lo;
      later_hi = later_hi + d1hi * d1hi;
      earlier_lo = earlier_lo + d2lo * d2lo;
      earlier_hi = earlier_hi + d2hi * d2hi;
    }
    const float later = SumLanes8(later_lo, later_hi);
    const float earlier = SumLanes8(earlier_lo, earlier_hi);
    const float past_mic = near_history_energy_[slot];
    const std::size_t up = static_cast<std::size_t>(max_shift + back);
    const std::size_t down = static_cast<std::size_t>(max_shift - back);
    error_[up] += later;
    ref_[up] += std::min(near_energy, error_energy);
    ++count_[up];
    // The shrank side holds a past microphone block against the current
    // estimate. After a true shrink by `back` blocks, the microphone `back`
    // blocks ago held what the filter predicts now only if that block came
    // after the shrink, i.e. within the failure; a block from before it, when
    // the filter still cancelled, matches only by chance. And at a talker's
    // onset such blocks hold no talker, so he was in neither side of the
    // comparison (k300_c10 of the corpus generator: a talker 17 dB over the
    // echo at 7.55 s, 13 blocks later 104 -> 52 ms, near loss 0.79 -> 2.35
    // dB; k46_c10 2.65 dB). So it scores only past blocks scored in the same
    // failure: a shrink by `back` is found after back + kMinBlocks blocks, up
    // to kWaveMaxBlocks - kMinBlocks.
    if (history_run_[slot] == run_) {
      error_[down] += earlier;
      ref_[down] += past_mic;
      ++count_[down];
    }
  }
  int best = 0;
  if (blocks_ >= kMinBlocks && blocks_ <= kWaveMaxBlocks) {
    float best_ratio = kWaveRatio;
    // An echo cannot come before its sound, nor after the range: a shift past
    // either end is a chance likeness (k109_c10 of the corpus generator,
    // double talk: 100 ms -> -252 ms (clamped to 0) at 2.2 s on 13 blocks at
    // 0.095, and the filter then chased the talker for the rest of the file).
    const int current = std::clamp(delay_blocks, 0, max_shift);
    const auto lowest = static_cast<std::size_t>(max_shift - current);
    const auto highest = static_cast<std::size_t>(2 * max_shift - current);
    for (std::size_t w = lowest; w <= highest; ++w) {
      if (ref_[w] <= kTiny || count_[w] < kMinBlocks) continue;
      const float ratio = error_[w] / ref_[w];
      if (ratio < best_ratio) {
        best_ratio = ratio;
        best = static_cast<int>(w) - max_shift;
      }
    }
  }
  return best;
}

void EchoMoveCheck::Store(const float* near, const float* echo) {
  const std::size_t b = block_size_;
  history_pos_ = Next(history_pos_, history_blocks_);
  ++history_valid_;
  std::copy(near, near + b, near_history_.begin() + static_cast<std::ptrdiff_t>(history_pos_ * b));
  near_history_energy_[history_pos_] = EnergyBy8(near, b);
  std::copy(echo, echo + b, echo_history_.begin() + static_cast<std::ptrdiff_t>(history_pos_ * b));
  history_run_[history_pos_] = scored_ ? run_ : -1;
  scored_ = false;
}

}  // namespace voicecore::aec
