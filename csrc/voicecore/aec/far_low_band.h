// Bursts of far-end energy below ~60 Hz (a plosive's pop, a bump on the
// talker's microphone): the one band the canceller cannot learn in time.
//
// Speech puts little energy below 60 Hz, so the adaptive filters' lowest bin
// (0-62 Hz at the 125 Hz bin spacing, where it mostly sees leakage from a
// voice's 85-190 Hz fundamental) is never trained on it. A room can return
// that band far louder than the bins around it, so a burst's echo arrives
// 10-20 dB over what either double-talk detector predicts for the bin, both
// take it for a talker, and the suppressor passes the whole block at its
// gentle double-talk setting: one such 100 ms decided the single-talk ERLE
// of whole calls (s2654_x01 at 4.89 s: 99 % of the residual, far energy
// below 100 Hz up 22 dB; s1207_x05 at 11.1 s).
//
// The band is read in the time domain, where a burst stands out (in the
// lowest bin it is mixed with the voice's leakage and rises only ~5 dB): a
// 4th-order Butterworth low-pass at 60 Hz over each far block, its block
// energies kept for the canceller's delay range. A block is in a burst when
// the far low-band energy that can be echoing now (the loudest block from the
// bulk delay over the next 60 blocks, each weighted down by the reverberant
// decay since its echo began) exceeds 10x its mean over the last ~2 s of far
// activity. The canceller then suppresses the lowest bin against the far
// power there (ResidualSuppressor::Process, `low_bin_echo`), in every mode.
//
// Thread contract: not thread-safe; owned by one EchoCanceller. The
// constructor allocates; nothing else does.
#pragma once

#include <cstddef>
#include <vector>

namespace voicecore::aec {

class FarLowBand {
 public:
  // history_blocks: at least the canceller's largest delay in blocks.
  FarLowBand(int sample_rate_hz, std::size_t block_size, std::size_t history_blocks);
  FarLowBand(const FarLowBand&) = delete;
  FarLowBand& operator=(const FarLowBand&) = delete;

  void Reset();
  // Every far block, in order (after the clip model, as the filters see it).
  void Push(const float* far_block);
  // Once per block: decides burst() for the block now at the microphone.
  // delay_blocks < 0 (no delay yet): any block in the history may be echoing.
  void Update(int delay_blocks, bool far_active);
  bool burst() const { return burst_; }

 private:
  struct Biquad {
    double b0, b1, b2, a1, a2;
  };
  struct State {
    double z1 = 0.0;
    double z2 = 0.0;
  };
  static double Run(const Biquad& q, State& s, double x) {
    const double y = q.b0 * x + s.z1;
    s.z1 = q.b1 * x - q.a1 * y + s.z2;
    s.z2 = q.b2 * x - q.a2 * y;
    return y;
  }

  const std::size_t block_size_;
  Biquad low_pass_[2];
  State state_[2];
  std::vector<float> energy_;  // ring of far low-band block energies
  std::size_t newest_ = 0;
  double mean_ = 0.0;  // far low-band block energy, slow mean over far activity
  bool burst_ = false;
};

}  // namespace voicecore::aec
