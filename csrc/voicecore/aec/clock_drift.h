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
// This measures how the echo path moves from the microphone and the
// reference themselves, not from the adaptive filter. Each second
// (kWindowBlocks) with enough far-end single talk, the microphone's blocks
// are cross-correlated with the reference's blocks at one lag (the block
// nearest the path), with the phase transform (GCC-PHAT: every bin at unit
// magnitude, so the correlation is as sharp as the room's response whatever
// the speech's colour). Between two windows the path's motion is the lag of
// one window's correlation against the other's, which every reflection votes
// for; the drift is the robust (Theil-Sen) slope of those motions over the
// pairs of the last kHistory windows. A window whose motions sit off the
// line (a new room, a delay change) is left out; three in a row start the
// history over. Once the drift exceeds kEngagePpm with the pairwise slopes
// agreeing in sign, both filters are moved by it from then on (a fractional
// delay of their whole response, in kWarpSamples steps), so the filter no
// longer has to learn the motion; later windows refine the estimate. Until
// it engages it only reads the signals, so a call without drift is
// processed as if it were not there.
//
// An earlier version read the path's position off the foreground filter's
// strongest taps, and engaged after 16 positions. A filter re-learning a
// moving path lags it and is noisy from one second to the next: on 24 60 s
// calls at +-100 ppm (bench/aec_drift.py scenes, seeds 1-12) it engaged in
// 23, late (22 and 48 s into the two calls traced), and at +-200 ppm in 3 of
// 24. With the correlation 24 of 24 calls at +-100 ppm and 23 of 24 at
// +-200 ppm engage, within 6 % of the true drift; the calls under 35 dB of
// ERLE over the last 30 s went from 4 to 1 at +-100 ppm and from 21 to 3 at
// +-200 ppm, and none of 12 still calls engaged. (Each window's strongest
// peak alone, tracked from window to window, jumped between reflections of
// about equal height and engaged in half the calls.)
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
#include "voicecore/aec/far_spectrum_buffer.h"
#include "voicecore/common/real_fft.h"

namespace voicecore::aec {

class ClockDrift {
 public:
  ClockDrift(std::size_t block_size, std::size_t num_partitions);
  ClockDrift(const ClockDrift&) = delete;
  ClockDrift& operator=(const ClockDrift&) = delete;

  void Reset();
  // Once per block, after the filters ran. `near`: the microphone's spectrum
  // over the last two blocks (the same transform as the far spectra);
  // `measurable`: a block of far-end single talk; `offset`: the filter
  // window's far offset. Returns the fractional shift (samples, positive =
  // later) to apply to the filters now with Warp, or 0.
  float Step(const AdaptiveFilter& foreground, const FarSpectrumBuffer& far,
             const std::complex<float>* near, RealFft& block_fft, bool measurable, std::size_t offset);
  // Delays the filter's whole impulse response by `samples` (fractional,
  // either sign).
  void Warp(AdaptiveFilter& filter, RealFft& block_fft, float samples);

  bool engaged() const { return engaged_; }
  // Estimated drift of the echo path against the reference, in ppm
  // (positive: the echo's delay grows).
  float ppm() const { return static_cast<float>(drift_ * 1e6); }

 private:
  // One window's phase-transformed cross-spectrum, against reference block
  // `ref`, and its shifts against the windows before it in the history.
  struct Window {
    double time = 0.0;
    long ref = 0;
    std::vector<std::complex<float>> phat;
    // shift[k - 1], strength[k - 1]: against the window k places older
    // (samples of absolute lag, and the share of bins that agree).
    std::vector<double> shift;
    std::vector<double> strength;
  };

  // The reference block for the next window from the foreground's strongest
  // tap (the block nearest it). False when the filter is still empty.
  bool ReferenceFromFilter(const AdaptiveFilter& foreground, RealFft& block_fft, std::size_t offset);
  // The window's phase transform into `w.phat`, and its own correlation's
  // peak: lag (samples, against the reference block) and height over RMS.
  void Transform(Window& w, RealFft& block_fft, double* peak_lag, double* peak_ratio);
  // How far the path moved from window `a` to `b` (samples), and the share
  // of bins that agree on it.
  double Shift(const Window& a, const Window& b, RealFft& block_fft, double* strength);
  // Robust slope (per sample) over the history's pairs, and the share of the
  // pairwise slopes with its sign.
  double Slope(double* agreement) const;
  const Window& At(std::size_t i) const { return windows_[(first_ + i) % windows_.size()]; }

  const std::size_t block_size_;
  const std::size_t taps_;
  // The warp's transform and buffers, made on the first warp: about half a
  // megabyte a canceller that most calls, which never drift, do not need.
  std::unique_ptr<RealFft> long_fft_;
  std::vector<float> now_;
  std::vector<float> long_time_;
  std::vector<std::complex<float>> long_spec_;
  // The current window's cross-spectrum of the microphone with the
  // reference block `ref_block_` lags back (bins).
  std::vector<std::complex<double>> cross_;
  std::vector<std::complex<float>> pair_;  // Shift's scratch
  std::vector<float> corr_;                // lags, 2 * block_size
  long ref_block_ = 0;
  bool have_ref_ = false;
  int window_blocks_ = 0;
  int measurable_blocks_ = 0;
  double clock_ = 0.0;  // samples since Reset
  // The history: a ring of kHistory + 1 windows (the newest is filled in
  // place), `count_` of them in use from `first_`.
  std::vector<Window> windows_;
  std::size_t first_ = 0;
  std::size_t count_ = 0;
  mutable std::vector<double> slopes_;  // Slope's scratch
  int misfits_ = 0;
  bool engaged_ = false;
  double drift_ = 0.0;   // per sample
  double pending_ = 0.0;  // samples not yet applied
};

}  // namespace voicecore::aec
