// Waveform test for a pure move of the echo in time (a playout buffer grew or
// shrank), one of EchoCanceller's two delay-change confirmations (see
// ConfirmDelay).
//
// If the echo path only moved by `shift` blocks, the microphone now holds
// what the foreground filter predicted `shift` blocks ago (for a shorter
// delay, it held `-shift` blocks ago what the foreground predicts now). Every
// shift in range is scored from a ring of the last blocks' microphone samples
// and foreground echo estimates, one block of multiply-adds each, so the
// filter can be moved by exactly the right number of blocks and keep working.
// The test must hold from the start of the failure: the background soon
// learns some of the displaced echo inside its window and the foreground's
// predictions change. So it scores only the first kWaveMaxBlocks blocks of a
// failure, and its budget is renewed only after the foreground has worked
// for as long (in double talk the failure flickers on and off). Near-end
// speech cannot pass it: the talker is in no echo estimate, and the shrank
// side compares only microphone blocks from within the failure (see Score).
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <cstddef>
#include <vector>

namespace voicecore::aec {

class EchoMoveCheck {
 public:
  // block_size: a multiple of 8. max_shift_blocks: the largest move scored
  // (the canceller's maximum delay).
  EchoMoveCheck(std::size_t block_size, std::size_t max_shift_blocks);
  EchoMoveCheck(const EchoMoveCheck&) = delete;
  EchoMoveCheck& operator=(const EchoMoveCheck&) = delete;

  void Reset();
  // A block where the foreground works (or the test does not apply).
  void Calm();
  // A block of failure: scores every shift on `near` and `echo` (the
  // foreground's estimate for this block; near_energy and error_energy are
  // the microphone's and the foreground error's energies). Returns the shift
  // in blocks (positive: the echo came later) that passes, or 0. Only shifts
  // that keep `delay_blocks` (the current estimate) within 0..max_shift_blocks
  // can pass.
  int Score(const float* near, const float* echo, float near_energy, float error_energy,
            int delay_blocks);
  // Stores this block (after Score) for later blocks' scores.
  void Store(const float* near, const float* echo);
  // After a delay change: estimates from before the move would pass the test
  // again, and the moved filter's failure is judged afresh.
  void Restart();
  // The failure has outlived the test's window.
  bool exhausted() const;

 private:
  std::size_t block_size_;
  std::size_t history_blocks_;
  std::size_t history_pos_ = 0;
  std::size_t history_valid_ = 0;  // blocks stored since the last restart
  std::vector<float> near_history_;
  std::vector<float> echo_history_;
  std::vector<float> near_history_energy_;  // per stored block (EnergyBy8)
  // Per stored block: the failure (run_) it was scored in, or -1.
  std::vector<int> history_run_;
  // Per tried shift (-max..max): the shifted estimate's error, the reference
  // energy it is judged against, and the blocks it was scored on.
  std::vector<float> error_;
  std::vector<float> ref_;
  std::vector<int> count_;
  int blocks_ = 0;  // blocks scored since the foreground began failing
  int calm_ = 0;    // blocks the foreground has not failed
  int run_ = 0;     // failures begun (blocks_ restarted from 0)
  bool scored_ = false;  // this block was scored (Score before Store)
};

}  // namespace voicecore::aec
