// Clock drift between the reference and the echo path.
//
// When the loudspeaker and the microphone run on clocks other than the
// reference's (a USB microphone with laptop speakers, a Bluetooth headset),
// the echo's delay slides by the clocks' difference: 0.1 ms per second at
// 100 ppm. The adaptive filter has to re-learn the moving path all the time;
// at high frequencies a tenth of a millisecond is already a large phase turn,
// and on a 150 s call the linear filter's ERLE estimate fell from 19-37 dB
// (still) to 10-16 dB at 50 ppm and 4-13 dB at 100 ppm (bench/aec_drift.py).
//
// This follows where the foreground filter's direct path sits, to a fraction
// of a sample: once a second (kWindowBlocks), over windows with enough
// far-end single talk, the energy centroid of the response around its
// strongest tap, in absolute lag (the window's far offset plus the tap). A
// filter that re-learns a moving path is noisy from one second to the next
// (successive responses correlated 0.4-0.8 at 100 ppm), but its direct path
// walks steadily; the strongest tap is searched near where the history puts
// it, so an about as strong reflection elsewhere does not take over. The
// drift is the robust (Theil-Sen) slope of the last kHistory positions. Once
// it exceeds kEngagePpm over a full history whose pairwise slopes agree in
// sign, both filters are moved by the estimated drift from then on (a
// fractional delay of their whole response, in kWarpSamples steps), so the
// filter no longer has to learn the motion; the positions keep being
// measured (the filter follows the path either way) and refine the
// estimate. A position far off the line (a new room, a delay change, another
// reflection taking over) is left out; three in a row start the history
// over. Until it engages it only reads the filter, so a call without drift
// is processed as if it were not there (no room of the three generated
// evaluation sets engages). On twelve 60 s calls at +-100 ppm the ERLE over
// the last 30 s went from 14-51 dB (median 33.8) to 41-56 dB (median 51.6).
// Following a drift costs a warp of both filters (about 320 us on the 2-core
// machine) every 78 blocks at 100 ppm: about 7 us per 10 ms frame.
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <complex>
#include <cstddef>
#include <memory>
#include <vector>

#include "voicecore/aec/adaptive_filter.h"
#include "voicecore/common/real_fft.h"

namespace voicecore::aec {

class ClockDrift {
 public:
  ClockDrift(std::size_t block_size, std::size_t num_partitions);
  ClockDrift(const ClockDrift&) = delete;
  ClockDrift& operator=(const ClockDrift&) = delete;

  void Reset();
  // Once per block. `measurable`: a block of far-end single talk while the
  // filter cancels; `offset`: the filter window's far offset. Returns the
  // fractional shift (samples, positive = later) to apply to the filters
  // now with Warp, or 0.
  float Step(const AdaptiveFilter& foreground, RealFft& block_fft, bool measurable,
             std::size_t offset);
  // Delays the filter's whole impulse response by `samples` (fractional,
  // either sign).
  void Warp(AdaptiveFilter& filter, RealFft& block_fft, float samples);

  bool engaged() const { return engaged_; }
  // Estimated drift of the echo path against the reference, in ppm
  // (positive: the echo's delay grows).
  float ppm() const { return static_cast<float>(drift_ * 1e6); }

 private:
  // The direct path's position (absolute lag, samples) in `now_`: around
  // `predicted` if that is not negative, else around the strongest tap.
  // False when no tap near the prediction is strong enough.
  bool Position(std::size_t offset, double predicted, double* position) const;
  // Robust slope of the history (per sample) and the share of its pairwise
  // slopes with that sign.
  double Slope(double* agreement) const;

  const std::size_t block_size_;
  const std::size_t taps_;
  // The warp's transform and buffers, made on the first warp: about half a
  // megabyte a canceller that most calls, which never drift, do not need.
  std::unique_ptr<RealFft> long_fft_;
  std::vector<float> now_;
  std::vector<float> long_time_;
  std::vector<std::complex<float>> long_spec_;
  int window_blocks_ = 0;
  int measurable_blocks_ = 0;
  double clock_ = 0.0;  // samples since Reset
  std::vector<double> times_;      // history, oldest first
  std::vector<double> positions_;
  mutable std::vector<double> slopes_;  // Slope's scratch
  int misfits_ = 0;
  bool engaged_ = false;
  double drift_ = 0.0;   // per sample
  double pending_ = 0.0;  // samples not yet applied
};

}  // namespace voicecore::aec
